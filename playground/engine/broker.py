"""The in-process broker: the only way nodes talk to each other.

Topics are MQTT-style (``playground/<topology>/<node>/in``, with ``+`` and ``#`` wildcards
when subscribing), so another transport (MQTT) can carry the same envelopes without node
code knowing. Requests carry a correlation id and a reply topic; the answer is published
there. In-process, an envelope is passed by reference and delivered synchronously, in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Deliver = Callable[[str, Any], None]


def topic_matches(pattern: str, topic: str) -> bool:
    """MQTT matching: ``+`` is one level, ``#`` (last) is any number of levels."""
    pattern_parts = pattern.split("/")
    topic_parts = topic.split("/")
    for index, part in enumerate(pattern_parts):
        if part == "#":
            return True
        if index >= len(topic_parts):
            return False
        if part != "+" and part != topic_parts[index]:
            return False
    return len(pattern_parts) == len(topic_parts)


@dataclass
class _Subscription:
    pattern: str
    deliver: Deliver
    active: bool = field(default=True)


class Broker:
    """Publish/subscribe with wildcard subscriptions, resolved once per topic and cached."""

    def __init__(self, on_error: Callable[[str, BaseException], None] | None = None) -> None:
        self._subscriptions: list[_Subscription] = []
        self._routes: dict[str, list[Deliver]] = {}
        self._on_error = on_error
        self.published = 0

    def subscribe(self, pattern: str, deliver: Deliver) -> _Subscription:
        subscription = _Subscription(pattern, deliver)
        self._subscriptions.append(subscription)
        self._routes.clear()
        return subscription

    def unsubscribe(self, subscription: _Subscription) -> None:
        subscription.active = False
        self._subscriptions = [s for s in self._subscriptions if s is not subscription]
        self._routes.clear()

    def _resolve(self, topic: str) -> list[Deliver]:
        route = [s.deliver for s in self._subscriptions if topic_matches(s.pattern, topic)]
        self._routes[topic] = route
        return route

    def publish(self, topic: str, envelope: Any) -> None:
        self.published += 1
        route = self._routes.get(topic)
        if route is None:
            route = self._resolve(topic)
        on_error = self._on_error
        if on_error is None:
            for deliver in route:
                deliver(topic, envelope)
            return
        for deliver in route:
            try:
                deliver(topic, envelope)
            except Exception as error:  # a node's bug must not tear the run down
                on_error(topic, error)

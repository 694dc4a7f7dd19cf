"""MQTT: an embedded broker anyone can watch and feed, and topologies that span processes.

The network side never runs on the simulated clock (keepalives at 100x speed would drop every
connection): the embedded broker and the clients run in threads of their own, each with a
plain asyncio loop (:mod:`~playground.mqtt.network`), and envelopes cross between that loop
and the engine's through deques, woken with ``call_soon_threadsafe``.

- :mod:`embedded` - an amqtt broker inside the app, on 127.0.0.1 only (``--mqtt``);
- :mod:`connection` - one aiomqtt connection that comes back after a drop, with backoff;
- :mod:`codec` - requests, replies and messages as JSON;
- :mod:`transport` - the engine's broker when nodes run in several processes;
- :mod:`link` - one engine's link to a broker: the transport's traffic, acknowledgements
  and retries, the tap, injection and producers' sources;
- :mod:`tap` - every hop published as JSON, sampled above a rate, never slowing the engine;
- :mod:`options` - the command-line options and what they allow together.
"""

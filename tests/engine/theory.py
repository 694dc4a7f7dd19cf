"""Queueing theory, computed here from first principles (no copied numbers).

- M/M/c: Erlang C gives the probability that an arrival waits, C(c, a) with a = lambda/mu;
  the mean wait is C / (c mu - lambda) and P(W > t) = C exp(-(c mu - lambda) t).
- M/D/1: Pollaczek-Khinchine gives the mean wait rho D / (2 (1 - rho)); the distribution of
  the wait is Erlang's (Crommelin's) sum
  P(W <= t) = (1 - rho) sum_{k=0}^{floor(t/D)} (lambda (k D - t))^k / k! exp(-lambda (k D - t)).
"""

from __future__ import annotations

import math


def erlang_c(servers: int, arrival_rate: float, service_rate: float) -> float:
    offered = arrival_rate / service_rate
    rho = offered / servers
    assert rho < 1, "the queue is unstable"
    top = offered**servers / math.factorial(servers) / (1 - rho)
    bottom = sum(offered**k / math.factorial(k) for k in range(servers)) + top
    return top / bottom


def mmc_mean_wait(servers: int, arrival_rate: float, service_rate: float) -> float:
    return erlang_c(servers, arrival_rate, service_rate) / (servers * service_rate
                                                              - arrival_rate)


def mmc_wait_quantile(q: float, servers: int, arrival_rate: float, service_rate: float
                      ) -> float:
    waits = erlang_c(servers, arrival_rate, service_rate)
    if waits <= 1 - q:
        return 0.0
    return math.log(waits / (1 - q)) / (servers * service_rate - arrival_rate)


def md1_mean_wait(arrival_rate: float, service_time: float) -> float:
    rho = arrival_rate * service_time
    assert rho < 1
    return rho * service_time / (2 * (1 - rho))


def md1_wait_cdf(t: float, arrival_rate: float, service_time: float) -> float:
    rho = arrival_rate * service_time
    total = 0.0
    for k in range(int(t // service_time) + 1):
        x = arrival_rate * (k * service_time - t)  # <= 0
        total += x**k / math.factorial(k) * math.exp(-x)
    return (1 - rho) * total


def md1_wait_quantile(q: float, arrival_rate: float, service_time: float) -> float:
    if md1_wait_cdf(0.0, arrival_rate, service_time) >= q:
        return 0.0
    low, high = 0.0, service_time
    while md1_wait_cdf(high, arrival_rate, service_time) < q:
        high *= 2
    for _ in range(80):
        middle = (low + high) / 2
        if md1_wait_cdf(middle, arrival_rate, service_time) < q:
            low = middle
        else:
            high = middle
    return high

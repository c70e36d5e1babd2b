"""Agents needed for a service level: Erlang C and Erlang A, pure functions (issue #13).

Notation: ``rate`` arrivals per second (λ), ``aht`` mean handle time in seconds (1/μ),
``patience`` the callers' mean patience in seconds (1/θ), ``agents`` servers (N), ``within``
the service level's threshold in seconds (T). The offered load is A = λ·AHT erlangs.

- **Erlang C** (M/M/N, nobody hangs up): the probability of waiting is
  C(N, A) = N·B / (N − A·(1 − B)) with B the Erlang B blocking probability, computed by
  the stable recursion B₀ = 1, Bₖ = A·Bₖ₋₁ / (k + A·Bₖ₋₁) (no factorials, no overflow).
  Service level SL = 1 − C·e^(−(N − A)·T/AHT), average speed of answer ASA = C·AHT/(N − A),
  occupancy A/N; defined only for N > A (with N ≤ A the queue grows without bound).
- **Erlang A** (M/M/N+M, Palm 1943; Garnett, Mandelbaum & Reiman 2002): callers hang up
  after an exponential patience. The number in the system is a birth–death chain (births λ,
  deaths min(n, N)·μ + max(n − N, 0)·θ), solved exactly up to where its tail is below 1e-12.
  An arrival finds the state n of the stationary law (PASTA): answered at once when n < N;
  otherwise it is answered when the n − N callers ahead of it and then one agent have left,
  each step at rate N·μ + j·θ, unless its own patience (rate θ) runs out first. The chance
  of being answered within T is the transient absorption of that small chain, computed by
  uniformization. SL is the share of *all* offered contacts answered within T (a caller who
  hangs up counts against it, as in most workforce tools); P(abandon) = θ·E[queue]/λ;
  the average wait of all callers is E[queue]/λ (Little); occupancy is the answered load
  λ·(1 − P(abandon))·AHT / N.

Staffing adds the floor rules around the queue: a chat agent handles ``concurrency``
conversations at once (N servers need ⌈N / concurrency⌉ agents), occupancy is capped, and
shrinkage (breaks, training, absence) turns agents on the floor into agents to schedule:
⌈floor / (1 − shrinkage)⌉.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Where the stationary law of the Erlang A chain is cut: the mass left beyond is below this.
_TAIL = 1e-12
# Agents tried above the load before giving up (a target no staffing reaches, e.g. a 100%
# service level with abandonment).
_MAX_EXTRA_AGENTS = 10_000


@dataclass(frozen=True)
class Queue:
    """What N agents give on one interval's traffic."""

    agents: int
    service_level: float  # share of offered contacts answered within the threshold, 0..1
    wait_probability: float  # share that waits at all
    average_wait: float  # seconds; Erlang C: ASA of all contacts; Erlang A: mean wait of all callers
    occupancy: float  # share of agent time busy, 0..1
    abandonment: float = 0.0  # share that hangs up before an answer (Erlang A), 0..1


def erlang_b(agents: int, load: float) -> float:
    """Erlang B blocking probability of ``agents`` servers offered ``load`` erlangs."""
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = load * blocking / (k + load * blocking)
    return blocking


def erlang_c(agents: int, load: float) -> float:
    """Probability that a contact waits (Erlang C); 1 when the queue is unstable (N ≤ A)."""
    if load <= 0:
        return 0.0
    if agents <= load:
        return 1.0
    blocking = erlang_b(agents, load)
    return agents * blocking / (agents - load * (1 - blocking))


def erlang_c_queue(*, agents: int, rate: float, aht: float, within: float) -> Queue | None:
    """Erlang C figures for ``agents``; None when they cannot keep up (N ≤ A)."""
    load = rate * aht
    if agents <= load:
        return None
    waiting = erlang_c(agents, load)
    level = 1 - waiting * math.exp(-(agents - load) * within / aht) if load > 0 else 1.0
    return Queue(agents=agents, service_level=level, wait_probability=waiting,
                 average_wait=waiting * aht / (agents - load) if load > 0 else 0.0, occupancy=load / agents)


def _stationary(agents: int, rate: float, mu: float, theta: float) -> np.ndarray:
    """π₀…π_K of the M/M/N+M chain, K where the remaining tail is below _TAIL."""
    weights = [1.0]
    n = 0
    total = 1.0
    while True:
        n += 1
        death = min(n, agents) * mu + max(n - agents, 0) * theta
        weights.append(weights[-1] * rate / death)
        total += weights[-1]
        # Past N the ratio λ/death falls towards 0: once below 1, the rest of the tail is
        # at most weight·ratio/(1 − ratio).
        ratio = rate / (death + theta) if n >= agents else 1.0
        if n >= agents and ratio < 1 and weights[-1] * ratio / (1 - ratio) < _TAIL * total:
            break
        if weights[-1] > 1e250:  # keep the products finite: rescale (only the ratios matter)
            weights = [w / 1e250 for w in weights]
            total /= 1e250
    law = np.array(weights)
    return law / law.sum()


def _answered_within(agents: int, mu: float, theta: float, ahead: np.ndarray, within: float) -> float:
    """Σⱼ ahead[j]·P(a caller with j callers ahead is answered within ``within`` seconds),
    by uniformization of the chain j → j − 1 (rate N·μ + j·θ) → answered, with its own
    hang-up at rate θ from every state."""
    if within <= 0 or not ahead.any():
        return 0.0
    size = len(ahead)
    steps = agents * mu + np.arange(size) * theta  # rate of moving one place up
    uniform = steps[-1] + theta  # the largest total rate out of a state
    stay = 1 - (steps + theta) / uniform
    move = steps / uniform
    poisson_mean = uniform * within
    # Terms of the Poisson sum until its remaining mass is negligible.
    terms = int(poisson_mean + 10 * math.sqrt(poisson_mean) + 20)
    vector = ahead.astype(float).copy()
    answered = 0.0  # mass absorbed in "answered" after k jumps
    total = 0.0
    log_weight = -poisson_mean  # log of the Poisson(k; ΛT) weight, k = 0
    for k in range(terms):
        total += math.exp(log_weight) * answered
        answered += vector[0] * move[0]
        shifted = np.empty_like(vector)
        shifted[:-1] = vector[:-1] * stay[:-1] + vector[1:] * move[1:]
        shifted[-1] = vector[-1] * stay[-1]
        vector = shifted
        log_weight += math.log(poisson_mean) - math.log(k + 1)
    return total


def erlang_a_queue(*, agents: int, rate: float, aht: float, patience: float, within: float) -> Queue:
    """Erlang A figures for ``agents`` (any N ≥ 1: with abandonment the queue never grows
    without bound)."""
    if rate <= 0:
        return Queue(agents=agents, service_level=1.0, wait_probability=0.0, average_wait=0.0, occupancy=0.0)
    mu, theta = 1 / aht, 1 / patience
    law = _stationary(agents, rate, mu, theta)
    waiting = float(law[agents:].sum())
    in_queue = np.arange(len(law) - agents)
    queue_length = float((law[agents:] * in_queue).sum())
    abandonment = theta * queue_length / rate
    level = (1 - waiting) + _answered_within(agents, mu, theta, law[agents:], within)
    return Queue(agents=agents, service_level=min(float(level), 1.0), wait_probability=waiting,
                 average_wait=queue_length / rate, occupancy=rate * (1 - abandonment) * aht / agents,
                 abandonment=abandonment)


@dataclass(frozen=True)
class Staffing:
    """Agents for one interval: servers the queue needs, agents on the floor, to schedule."""

    servers: int
    on_floor: int
    scheduled: int
    queue: Queue | None  # None when there is no traffic
    reached: bool  # False when no staffing up to the search limit reaches the target


def agents_needed(*, rate: float, aht: float, target: float, within: float, patience: float | None = None,
                  max_occupancy: float = 1.0, shrinkage: float = 0.0, concurrency: int = 1) -> Staffing:
    """The fewest servers whose service level is at least ``target`` (0..1) and whose
    occupancy is at most ``max_occupancy``: Erlang A when ``patience`` is given, else
    Erlang C. ``rate`` per second, times in seconds."""
    if not 0 < target <= 1 or not 0 < max_occupancy <= 1 or not 0 <= shrinkage < 1 or concurrency < 1:
        raise ValueError("target and max_occupancy in (0, 1], shrinkage in [0, 1), concurrency ≥ 1")
    if rate <= 0:
        return Staffing(servers=0, on_floor=0, scheduled=0, queue=None, reached=True)
    load = rate * aht

    def figures(n: int) -> Queue | None:
        if patience is None:
            return erlang_c_queue(agents=n, rate=rate, aht=aht, within=within)
        return erlang_a_queue(agents=n, rate=rate, aht=aht, patience=patience, within=within)

    def good(queue: Queue | None) -> bool:
        return queue is not None and queue.service_level >= target and queue.occupancy <= max_occupancy

    # More agents only raise the service level and lower occupancy, so "good" is monotone
    # in N: double up from the least that can work, then bisect (a handful of evaluations
    # where an upward walk from the load took dozens).
    low = math.floor(load) + 1 if patience is None else 1
    limit = low + _MAX_EXTRA_AGENTS
    high, queue = low, figures(low)
    while not good(queue) and high < limit:
        low, high = high + 1, min(limit, max(high * 2, high + 1))
        queue = figures(high)
    if good(queue):
        best = queue
        while low < high:
            middle = (low + high) // 2
            candidate = figures(middle)
            if good(candidate):
                high, best = middle, candidate
            else:
                low = middle + 1
        n, queue = high, best
    else:
        n = high
    reached = good(queue)
    on_floor = math.ceil(n / concurrency)
    return Staffing(servers=n, on_floor=on_floor, scheduled=math.ceil(on_floor / (1 - shrinkage) - 1e-9), queue=queue,
                    reached=reached)

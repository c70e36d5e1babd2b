"""Erlang C against published worked examples and hand computations; Erlang A against a
discrete-event simulation (SimPy) of the same queue, and against Erlang C as patience grows
without bound; the staffing rules (shrinkage, concurrency, occupancy cap) by hand."""
import math
import random

import pytest
import simpy

from kpis.staffing.erlang import agents_needed, erlang_a_queue, erlang_b, erlang_c, erlang_c_queue

# Call Centre Helper's worked example ("Erlang C formula — made simple"): 100 calls in 30
# minutes, 180 s handle time, 80% to be answered within 20 s: 10 erlangs.
RATE, AHT, WITHIN = 100 / 1800, 180.0, 20.0


def test_erlang_b_and_c_by_hand():
    # M/M/3 offered 2 erlangs: B = (2³/3!) / (1 + 2 + 2²/2 + 2³/3!) = (4/3) / (19/3) = 4/19;
    # C = 3B / (3 − 2(1 − B)) = (12/19) / (27/19) = 4/9, the textbook M/M/3 waiting chance.
    assert erlang_b(3, 2.0) == pytest.approx(4 / 19, abs=1e-12)
    assert erlang_c(3, 2.0) == pytest.approx(4 / 9, abs=1e-12)
    assert erlang_c(2, 2.0) == 1.0  # N ≤ A: everybody waits, the queue grows without bound
    assert erlang_c(3, 0.0) == 0.0


@pytest.mark.parametrize("agents, waiting, level, asa, occupancy", [
    (11, 0.6821, 0.3896, 122.8, 0.9091),
    (12, 0.4494, 0.6402, 40.4, 0.8333),
    (13, 0.2853, 0.7956, 17.1, 0.7692),
    (14, 0.1741, 0.8884, 7.8, 0.7143),
])
def test_erlang_c_matches_the_published_worked_example(agents, waiting, level, asa, occupancy):
    queue = erlang_c_queue(agents=agents, rate=RATE, aht=AHT, within=WITHIN)
    assert (round(queue.wait_probability, 4), round(queue.service_level, 4), round(queue.average_wait, 1),
            round(queue.occupancy, 4)) == (waiting, level, asa, occupancy)


def test_erlang_c_staffing_of_the_worked_example_with_shrinkage():
    # 13 agents give 79.6%, 14 give 88.8%: 14 on the floor; 30% shrinkage → ⌈14 / 0.7⌉ = 20.
    staffing = agents_needed(rate=RATE, aht=AHT, target=0.8, within=WITHIN, shrinkage=0.3)
    assert (staffing.servers, staffing.on_floor, staffing.scheduled, staffing.reached) == (14, 14, 20, True)
    # An occupancy cap of 70% needs 15 (14 would be 71.4% busy): 10/15 = 66.7%.
    capped = agents_needed(rate=RATE, aht=AHT, target=0.8, within=WITHIN, max_occupancy=0.7)
    assert (capped.servers, round(capped.queue.occupancy, 4)) == (15, 0.6667)


def test_chat_concurrency_divides_servers_among_agents():
    # 14 chat slots at 3 chats per agent: ⌈14/3⌉ = 5 agents, ⌈5 / 0.8⌉ = 7 to schedule.
    staffing = agents_needed(rate=RATE, aht=AHT, target=0.8, within=WITHIN, concurrency=3, shrinkage=0.2)
    assert (staffing.servers, staffing.on_floor, staffing.scheduled) == (14, 5, 7)


def test_no_traffic_needs_nobody_and_bad_rules_are_refused():
    assert agents_needed(rate=0, aht=AHT, target=0.8, within=WITHIN).scheduled == 0
    for bad in ({"target": 0}, {"target": 1.2}, {"shrinkage": 1.0}, {"max_occupancy": 0}, {"concurrency": 0}):
        rules = {"target": 0.8, **bad}
        with pytest.raises(ValueError):
            agents_needed(rate=RATE, aht=AHT, within=WITHIN, **rules)


def test_erlang_a_becomes_erlang_c_as_patience_grows_without_bound():
    for agents in (11, 14):
        c = erlang_c_queue(agents=agents, rate=RATE, aht=AHT, within=WITHIN)
        a = erlang_a_queue(agents=agents, rate=RATE, aht=AHT, patience=1e9, within=WITHIN)
        assert a.service_level == pytest.approx(c.service_level, abs=1e-5)
        assert a.wait_probability == pytest.approx(c.wait_probability, abs=1e-5)
        assert a.abandonment < 1e-6


def _simulated(*, agents, rate, aht, patience, within, customers, seed):
    """The same M/M/N+M queue, simulated: Poisson arrivals, exponential handle times and
    patience; returns the shares answered within ``within`` and abandoned."""
    rng = random.Random(seed)
    env = simpy.Environment()
    desk = simpy.Resource(env, capacity=agents)
    counts = {"in_time": 0, "abandoned": 0}

    def caller():
        arrived = env.now
        with desk.request() as request:
            gives_up = env.timeout(rng.expovariate(1 / patience))
            result = yield request | gives_up
            if request not in result:
                counts["abandoned"] += 1
                return
            counts["in_time"] += env.now - arrived <= within
            yield env.timeout(rng.expovariate(1 / aht))

    def arrivals():
        for _ in range(customers):
            yield env.timeout(rng.expovariate(rate))
            env.process(caller())

    env.process(arrivals())
    env.run()
    return counts["in_time"] / customers, counts["abandoned"] / customers


@pytest.mark.parametrize("agents, patience", [(10, 120.0), (12, 120.0), (14, 300.0), (9, 60.0)])
def test_erlang_a_agrees_with_a_simulation_of_the_same_queue(agents, patience):
    formula = erlang_a_queue(agents=agents, rate=RATE, aht=AHT, patience=patience, within=WITHIN)
    level, abandoned = _simulated(agents=agents, rate=RATE, aht=AHT, patience=patience, within=WITHIN,
                                  customers=60_000, seed=agents)
    assert abs(formula.service_level - level) <= 0.02, (formula.service_level, level)
    assert abs(formula.abandonment - abandoned) <= 0.01, (formula.abandonment, abandoned)


def test_erlang_a_staffs_fewer_than_erlang_c_when_callers_hang_up():
    # Abandonment relieves the queue: 12 agents reach 82.6% (the simulation above agrees),
    # where Erlang C asks for 14.
    staffing = agents_needed(rate=RATE, aht=AHT, target=0.8, within=WITHIN, patience=120.0)
    assert (staffing.servers, round(staffing.queue.service_level, 3), round(staffing.queue.abandonment, 3)) == (
        12, 0.826, 0.062)
    assert math.isclose(staffing.queue.occupancy, RATE * (1 - staffing.queue.abandonment) * AHT / 12)

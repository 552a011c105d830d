"""The join and return rules of compiler/semantics.py, each on its own: the executor and
the explorer both call these (the differential tests check that they agree in runs)."""

from __future__ import annotations

from dataclasses import dataclass

from rolegraph.compiler import semantics


@dataclass(frozen=True)
class Fl:
    node: str
    time: int
    digest: str = "0"

    @property
    def key(self) -> tuple:
        return (self.time, self.node, self.digest)


@dataclass(frozen=True)
class Of:
    time: int
    order: int
    label: str = ""


def test_a_join_waits_for_every_queue_and_consumes_the_heads():
    queues = {"draft": [1, 3], "review": []}
    assert semantics.join(queues) is None
    assert queues == {"draft": [1, 3], "review": []}  # nothing consumed
    queues["review"].append(2)
    assert semantics.join(queues) == {"draft": 1, "review": 2}  # the 1st meets the 1st
    assert queues == {"draft": [3], "review": []}
    assert semantics.join({}) is None  # a consumer that reads no node never joins
    assert semantics.join_time([1, 2]) == 3


def test_an_earlier_output_may_still_arrive_only_from_an_earlier_firing_that_leads_there():
    def reaches(a: str, b: str) -> bool:
        return (a, b) in {("a", "b"), ("a", "a"), ("b", "b"), ("c", "c")}

    assert semantics.may_still_arrive("b", (5,), [Fl("a", 4)], reaches)
    assert not semantics.may_still_arrive("b", (4,), [Fl("a", 4)], reaches)  # not earlier
    assert not semantics.may_still_arrive("b", (5,), [Fl("c", 1)], reaches)  # unrelated
    assert not semantics.may_still_arrive("b", (5,), [], reaches)
    # a join's head, keyed: a firing of its own node and time keyed before it may still
    # arrive (a node fired twice at one time), one keyed after it, or of another node of
    # that time, may not; nor, for a read before that time, a firing of the node at it
    head = (4, "b", "5")
    assert semantics.may_still_arrive("b", head, [Fl("b", 4, "3")], reaches)
    assert not semantics.may_still_arrive("b", head, [Fl("b", 4, "7")], reaches)
    assert not semantics.may_still_arrive("b", head, [Fl("a", 4, "0")], reaches)
    assert semantics.may_still_arrive("b", head, [Fl("a", 3, "9")], reaches)
    assert not semantics.may_still_arrive("b", (4,), [Fl("b", 4, "3")], reaches)


def test_a_route_still_to_be_taken_may_start_its_target_keyed_before_a_head_of_that_time():
    def reaches(a: str, b: str) -> bool:
        return (a, b) in {("a", "b"), ("a", "a"), ("b", "b")}

    # an edge taken at 3 starts its target at 4, its digest not known: before any head
    # of that node at 4, after every output of time 3 or before; another target at 4
    # leads to `b` only later
    assert semantics.may_start(3, "b", "b", (4, "b", "0"), reaches)
    assert not semantics.may_start(3, "b", "b", (4,), reaches)
    assert not semantics.may_start(3, "a", "b", (4, "b", "f"), reaches)
    assert semantics.may_start(3, "a", "b", (5,), reaches)
    assert not semantics.may_start(3, "a", "c", (9,), reaches)


def test_the_earliest_return_wins_then_the_first_declared():
    assert semantics.winner([Of(3, 0), Of(2, 5), Of(2, 1)]) == Of(2, 1)
    assert semantics.winner([]) is None


def test_a_failure_of_the_run_comes_after_the_returns_of_its_time_and_before_later_ones():
    failure = semantics.FAILS_THE_RUN
    assert semantics.winner([Of(2, failure, "a"), Of(2, 7)]) == Of(2, 7)
    assert semantics.winner([Of(3, 0), Of(2, failure, "a")]) == Of(2, failure, "a")
    # two failures of one time: by key, whichever was offered first
    assert semantics.winner([Of(2, failure, "(2, 'b')"), Of(2, failure, "(2, 'a')")]) == Of(
        2, failure, "(2, 'a')"
    )
    # a failure leaves out of the run only what comes after its time; a return, its own too
    assert semantics.outside(Of(2, failure)) == 3 and semantics.outside(Of(2, 0)) == 2


def test_a_return_completes_what_is_before_it_and_discards_the_rest():
    assert semantics.in_run(2, 3) and not semantics.in_run(3, 3) and not semantics.in_run(4, 3)
    assert semantics.in_run(99, None)
    assert not semantics.end_decided(3, [2, 5])  # a firing at 2 is still in flight
    assert semantics.end_decided(3, [3, 4])
    assert semantics.end_decided(3, [])


def test_the_explorer_steps_in_logical_time_and_stops_at_a_return():
    pending = {2: ["b", "a"], 3: ["c"]}
    assert semantics.next_step(pending, "<return>") == (2, ["a", "b"], False)
    assert pending == {3: ["c"]}
    pending = {4: ["x", "<return>"], 5: ["y"]}
    assert semantics.next_step(pending, "<return>") == (4, [], True)

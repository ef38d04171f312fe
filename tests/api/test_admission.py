"""Bounded concurrency: a few workers, a short queue, then Busy (503 in the API)."""

import threading

import anyio
import pytest

from rag.api.admission import Admission, Busy


def test_work_runs_off_the_event_loop_and_returns_its_value():
    async def main():
        admission = Admission(workers=2, queue_limit=0)
        caller = threading.get_ident()
        return await admission.run(threading.get_ident) != caller, admission.pending

    assert anyio.run(main) == (True, 0)


def test_requests_beyond_workers_plus_queue_are_refused_and_the_rest_finish():
    release = threading.Event()
    outcomes = []

    async def main():
        admission = Admission(workers=1, queue_limit=2)

        async def one():
            try:
                outcomes.append(await admission.run(release.wait, 10))
            except Busy:
                outcomes.append("busy")

        async with anyio.create_task_group() as group:
            for _ in range(5):
                group.start_soon(one)
            await anyio.sleep(0.2)
            assert (admission.running, admission.queued) == (1, 2)
            release.set()
        return admission.pending

    assert anyio.run(main) == 0
    assert outcomes.count("busy") == 2 and outcomes.count(True) == 3


def test_a_failing_call_frees_its_slot():
    async def main():
        admission = Admission(workers=1, queue_limit=0)
        with pytest.raises(ZeroDivisionError):
            await admission.run(lambda: 1 / 0)
        return await admission.run(lambda: "free again")

    assert anyio.run(main) == "free again"


def test_a_queued_request_whose_client_left_is_dropped_not_run():
    """34 asks with k=50 whose connections closed at once made the next ask wait 117 s."""
    from rag.api.admission import Gone

    release, ran = threading.Event(), []

    async def main():
        admission = Admission(workers=1, queue_limit=10)

        async def left():
            return True

        async def dropped():
            with pytest.raises(Gone):
                await admission.run(ran.append, "should not run", gone=left)

        async with anyio.create_task_group() as group:
            group.start_soon(admission.run, release.wait, 10)
            await anyio.sleep(0.1)
            group.start_soon(dropped)
            await anyio.sleep(0.1)
            release.set()
        return admission.pending

    assert anyio.run(main) == 0 and ran == []


def test_a_request_waits_at_most_max_wait_then_is_busy():
    release = threading.Event()

    async def main():
        admission = Admission(workers=1, queue_limit=10, max_wait=0.2)
        async with anyio.create_task_group() as group:
            group.start_soon(admission.run, release.wait, 10)
            await anyio.sleep(0.05)
            with pytest.raises(Busy):
                await admission.run(lambda: "late")
            release.set()
        return admission.pending

    assert anyio.run(main) == 0


def test_costly_requests_fill_the_queue_by_their_weight():
    release = threading.Event()

    async def main():
        admission = Admission(workers=1, queue_limit=9)
        refused = 0

        async def one(cost):
            nonlocal refused
            try:
                await admission.run(release.wait, 10, cost=cost)
            except Busy:
                refused += 1

        async with anyio.create_task_group() as group:
            for _ in range(4):
                group.start_soon(one, 4)  # 10 slots: two of cost 4 fit, the third and fourth do not
            await anyio.sleep(0.2)
            release.set()
        return refused

    assert anyio.run(main) == 2

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

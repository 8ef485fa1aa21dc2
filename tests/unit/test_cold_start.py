"""A handler's imports run with the garbage collector paused, and what they made is frozen after."""

import gc

from jobsys.cold_start import collector_paused


def test_the_collector_is_paused_during_the_imports_and_runs_again_after_them():
    gc.unfreeze()
    with collector_paused():
        assert not gc.isenabled()
        made = [object() for _ in range(10)]
    assert gc.isenabled() and gc.get_freeze_count() > 0
    gc.unfreeze()
    assert made


def test_a_collector_that_was_off_stays_off():
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.unfreeze()
        gc.enable()

"""Each change to moto's code is one object that puts moto's code back as it found it."""

import pytest

from jobs_local.patches import PATCHES
from jobs_local.patching import Patch, _get


@pytest.mark.parametrize("patch", PATCHES, ids=lambda patch: patch.replaces.split(",")[0][:60])
def test_a_patch_installs_and_uninstalls_cleanly(patch: Patch):
    assert patch.replaces.startswith(("moto", "the ")), "a patch names the moto behaviour it replaces"
    was_installed = patch.installed
    patch.uninstall()
    moto_s = [_get(owner, name) for owner, name, _ in patch.targets]
    patch.install()
    assert [_get(owner, name) for owner, name, _ in patch.targets] != moto_s
    patch.install()  # a second install changes nothing
    patch.uninstall()
    assert [_get(owner, name) for owner, name, _ in patch.targets] == moto_s
    if was_installed:
        patch.install()


def test_every_module_that_changes_moto_is_listed():
    import pkgutil

    import jobs_local

    listed = {id(patch) for patch in PATCHES}
    for module in pkgutil.walk_packages(jobs_local.__path__, "jobs_local."):
        found = __import__(module.name, fromlist=["PATCH"])
        if isinstance(getattr(found, "PATCH", None), Patch):
            assert id(found.PATCH) in listed, f"{module.name}.PATCH is not in PATCHES"

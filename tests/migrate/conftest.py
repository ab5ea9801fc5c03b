import pytest

from tests.migrate import migrate_apps


@pytest.fixture(autouse=True)
def _fresh_state():
    migrate_apps.SEEN.clear()
    migrate_apps.FAIL_WHEN.clear()
    yield
    migrate_apps.SEEN.clear()
    migrate_apps.FAIL_WHEN.clear()

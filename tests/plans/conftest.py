from tests.forwards.conftest import seeded  # noqa: F401  (fixture)
from tests.reports.helpers import _catalogue  # noqa: F401  (fixture)

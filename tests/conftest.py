"""Session-wide test settings.

BLAS is limited to one thread: the tests use small matrices (<= 64 x 64), for which
threaded OpenBLAS only adds synchronisation cost (25 % slower here, ~10x when the cores
are shared with other work).
"""

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="session")
def _single_threaded_blas():
    with threadpool_limits(limits=1):
        yield

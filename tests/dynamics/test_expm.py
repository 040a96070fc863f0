"""The batched matrix exponential against scipy, and its batch independence."""

import numpy as np
import scipy.linalg
from eplt.dynamics._expm import expm_batched


def _stack(rng, n, d):
    A = rng.normal(size=(n, d, d)) + 1j * rng.normal(size=(n, d, d))
    # 1-norms from 1e-4 to 1e3: every Pade degree (3, 5, 7, 9, 13) and up to 8 squarings
    scales = np.logspace(-4, 3, n) / np.abs(A).sum(axis=1).max(axis=1)
    return A * scales[:, None, None]


def test_matches_scipy_for_every_degree_and_scaling():
    rng = np.random.default_rng(0)
    for d in (2, 4, 9, 16):
        A = _stack(rng, 40, d)
        got = expm_batched(A)
        for a, g in zip(A, got):
            want = scipy.linalg.expm(a)
            assert np.abs(g - want).max() <= 1e-12 * max(1.0, np.abs(want).max())


def test_each_matrix_independent_of_its_batch_mates():
    rng = np.random.default_rng(1)
    A = _stack(rng, 30, 4)
    full = expm_batched(A)
    for i in (0, 7, 29):
        np.testing.assert_array_equal(expm_batched(A[i : i + 1])[0], full[i])
        np.testing.assert_array_equal(expm_batched(A[i]), full[i])  # a single 2-D matrix
    # leading batch axes are kept
    assert expm_batched(A.reshape(5, 6, 4, 4)).shape == (5, 6, 4, 4)


def test_real_input_and_known_values():
    # exp of a real generator of rotations: [[cos, -sin], [sin, cos]]
    t = 0.7
    R = expm_batched(np.array([[0.0, -t], [t, 0.0]]))
    assert R.dtype == float
    np.testing.assert_allclose(R, [[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]], atol=1e-15)
    # nilpotent: exp(N) = 1 + N exactly
    N = np.array([[0.0, 3.0], [0.0, 0.0]])
    np.testing.assert_allclose(expm_batched(N), np.eye(2) + N, atol=1e-15)
    np.testing.assert_array_equal(
        expm_batched(np.zeros((3, 2, 2))), np.broadcast_to(np.eye(2), (3, 2, 2))
    )

"""Local superoperators and their application to paired states, against dense references."""

import numpy as np
import pytest
from eplt.dynamics.superop import (
    Generator,
    ProductTerm,
    _dissipator,
    _hamiltonian_superop,
    apply_consecutive,
    apply_local,
    from_paired,
    to_paired,
)


def _rand_op(rng, d):
    return rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))


def _superop_action(S, X):
    """Apply a row-major-vectorised superoperator to the matrix X."""
    d = X.shape[0]
    return (S @ X.reshape(-1)).reshape(d, d)


def _local_on_full(S, party, dims, rho):
    """Reference: the channel S (x) id on the full density matrix, by explicit indices."""
    n = len(dims)
    T = rho.reshape(tuple(dims) * 2)  # axes i_0..i_{n-1}, j_0..j_{n-1}
    d = dims[party]
    S4 = S.reshape(d, d, d, d)  # S[(a b), (c e)]
    T = np.moveaxis(T, (party, n + party), (0, 1))
    T = np.einsum("abce,ce...->ab...", S4, T)
    T = np.moveaxis(T, (0, 1), (party, n + party))
    D = int(np.prod(dims))
    return T.reshape(D, D)


def test_hamiltonian_superop_is_the_commutator_and_batches():
    rng = np.random.default_rng(1)
    for d in (2, 3, 5):
        Hs = np.stack([_rand_op(rng, d) for _ in range(4)])
        X = _rand_op(rng, d)
        batched = _hamiltonian_superop(Hs)
        assert batched.shape == (4, d * d, d * d)
        for H, S in zip(Hs, batched):
            np.testing.assert_allclose(_superop_action(S, X), -1j * (H @ X - X @ H), atol=1e-12)
            np.testing.assert_allclose(_hamiltonian_superop(H), S, atol=0)


def test_dissipator_action():
    rng = np.random.default_rng(2)
    L, X = _rand_op(rng, 3), _rand_op(rng, 3)
    LdL = L.conj().T @ L
    want = L @ X @ L.conj().T - 0.5 * (LdL @ X + X @ LdL)
    np.testing.assert_allclose(_superop_action(_dissipator(L), X), want, atol=1e-12)


# five qubits: party k has B = 4^(4-k) trailing entries, covering every branch of the
# contraction (B = 1; m B <= 32 by a kron GEMM; stacked matmul), plus a qutrit in the middle
@pytest.mark.parametrize("dims", [(2, 2, 2, 2, 2), (2, 3, 2), (3, 2, 2, 2)])
def test_apply_local_matches_dense_reference(dims):
    rng = np.random.default_rng(3)
    D = int(np.prod(dims))
    rho = _rand_op(rng, D)
    x = to_paired(rho, dims)
    for k, d in enumerate(dims):
        S = _rand_op(rng, d * d)
        got = from_paired(apply_local(x, k, S), dims)
        np.testing.assert_allclose(got, _local_on_full(S, k, dims, rho), atol=1e-11)


def test_apply_local_batched_and_consecutive():
    rng = np.random.default_rng(4)
    dims = (2, 2, 2, 2)
    rhos = [_rand_op(rng, 16) for _ in range(3)]
    X = np.stack([to_paired(r, dims) for r in rhos])
    for k in range(4):
        Ss = np.stack([_rand_op(rng, 4) for _ in range(3)])
        Y = apply_local(X, k, Ss, batch=True)
        for i in range(3):
            np.testing.assert_allclose(
                from_paired(Y[i], dims), _local_on_full(Ss[i], k, dims, rhos[i]), atol=1e-11
            )
    x = X[0]
    for first in range(3):
        S0, S1 = _rand_op(rng, 4), _rand_op(rng, 4)
        want = apply_local(apply_local(x, first, S0), first + 1, S1)
        np.testing.assert_allclose(apply_consecutive(x, first, np.kron(S0, S1)), want, atol=1e-11)
        out = np.empty_like(x)
        got = apply_consecutive(x, first, np.kron(S0, S1), out=out)
        assert np.shares_memory(got, out)
        np.testing.assert_allclose(got, want, atol=1e-11)
    with pytest.raises(ValueError, match="does not match"):
        apply_consecutive(x, 3, np.eye(16))


def test_generator_dense_sparse_and_apply_agree():
    rng = np.random.default_rng(5)
    dims = (2, 3, 2)
    terms = (
        ProductTerm(0.7, {0: _rand_op(rng, 4)}),
        ProductTerm(1.0 - 0.5j, {1: _rand_op(rng, 9), 2: _rand_op(rng, 4)}),
        ProductTerm(2.0, {}),  # a multiple of the identity
    )
    gen = Generator(dims, terms)
    dense = gen.to_dense()
    np.testing.assert_allclose(dense, gen.to_sparse().toarray(), atol=1e-12)
    x = to_paired(_rand_op(rng, 12), dims)
    np.testing.assert_allclose(dense @ x.reshape(-1), gen.apply(x).reshape(-1), atol=1e-11)
    # the identity term: 2 x on its own
    np.testing.assert_allclose(
        Generator(dims, terms[2:]).to_dense(), 2.0 * np.eye(dense.shape[0]), atol=0
    )


def test_one_party_generator_dense_equals_sparse():
    # one party: to_dense sums the factors directly (no Kronecker products)
    rng = np.random.default_rng(6)
    S1, S2 = _rand_op(rng, 9), _rand_op(rng, 9)
    gen = Generator(
        (3,), (ProductTerm(0.5, {0: S1}), ProductTerm(-1j, {0: S2}), ProductTerm(0.25, {}))
    )
    want = 0.5 * S1 - 1j * S2 + 0.25 * np.eye(9)
    np.testing.assert_allclose(gen.to_dense(), want, rtol=0, atol=1e-15)
    np.testing.assert_allclose(gen.to_sparse().toarray(), want, rtol=0, atol=1e-15)


def test_public_builders_are_qutip_superoperators():
    """The public builders return qutip's column-stacked superoperators, equal to qutip's
    own constructions, and as_engine_superop maps them to the engine's row-stacked matrices
    (checked by their action on a random matrix)."""
    import qutip
    from eplt.dynamics.superop import (
        _replacement_superop,
        as_engine_superop,
        dissipator,
        hamiltonian_superop,
        lindbladian,
        replacement_superop,
        unitary_superop,
    )

    rng = np.random.default_rng(7)
    d = 3
    A = qutip.Qobj(_rand_op(rng, d))
    H = A + A.dag()
    U = qutip.Qobj(np.linalg.qr(_rand_op(rng, d))[0])
    omega = qutip.rand_dm(d, seed=1)
    pairs = [
        (hamiltonian_superop(H), -1j * (qutip.spre(H) - qutip.spost(H))),
        (dissipator(A), qutip.lindblad_dissipator(A)),
        (lindbladian(H, [A, 0.5 * A.dag()]), qutip.liouvillian(H, [A, 0.5 * A.dag()])),
        (unitary_superop(U), qutip.to_super(U)),
    ]
    for got, want in pairs:
        assert got.superrep == "super" and got.dims == want.dims
        np.testing.assert_allclose(got.full(), want.full(), atol=1e-12)
    X = _rand_op(rng, d)
    S = replacement_superop(omega)
    out = qutip.vector_to_operator(S * qutip.operator_to_vector(qutip.Qobj(X)))
    np.testing.assert_allclose(out.full(), omega.full() * np.trace(X), atol=1e-12)
    np.testing.assert_allclose(as_engine_superop(S), _replacement_superop(omega), atol=1e-14)
    L = qutip.liouvillian(H, [A])
    want = (qutip.vector_to_operator(L * qutip.operator_to_vector(qutip.Qobj(X)))).full()
    np.testing.assert_allclose(_superop_action(as_engine_superop(L), X), want, atol=1e-11)

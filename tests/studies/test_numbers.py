"""No silent wrong numbers (issue 20): garbage into the API is refused naming the
argument or file; study summaries are finite, in their physical ranges and keyed uniquely."""

from __future__ import annotations

import math

import numpy as np
import pytest
import qutip


def test_e_ops_callable_returning_none_is_refused_naming_it():
    import eplt

    env = eplt.Environment([2], [eplt.lindblad(0, qutip.num(2), [qutip.destroy(2)])])
    rho0 = qutip.basis(2, 1)
    with pytest.raises(TypeError, match=r"e_ops 'e0'.*returned NoneType"):
        eplt.evolve(rho0, env, [0.0, 1.0], e_ops=[lambda r: None])
    with pytest.raises(TypeError, match="e_ops 'mine'"):
        eplt.evolve(rho0, env, [0.0, 1.0], e_ops={"mine": lambda t, r: "text"})


@pytest.mark.parametrize("bad", [np.nan, np.inf, 1e200])
def test_collapse_operators_with_non_finite_or_overflowing_entries_are_refused(bad):
    import eplt

    c = qutip.Qobj(np.array([[0, bad], [0, 0]], dtype=complex))
    with pytest.raises(ValueError, match=r"lindblad on party 0.*(c_ops\[0\]|overflow)"):
        eplt.lindblad(0, qutip.num(2), [c])
    with pytest.raises(ValueError, match="lindblad on party 0: H has a non-finite"):
        eplt.lindblad(0, qutip.num(2) * np.nan, [])


@pytest.mark.parametrize("rate", [0, 0.0, -1.0, math.inf, math.nan])
def test_eplt_protocol_refuses_rates_outside_the_open_half_line(rate):
    import eplt

    tau = eplt.thermal_state(eplt.qubit_hamiltonian(1.0), 1.0)
    H = eplt.qubit_hamiltonian(1.0)
    with pytest.raises(ValueError, match=r"rate must lie in \(0, inf\)"):
        eplt.eplt_protocol(tau, tau, H, H, 1.0, rate=rate)
    with pytest.raises(TypeError, match="rate must be a number"):
        eplt.eplt_protocol(tau, tau, H, H, 1.0, rate="1")


@pytest.mark.parametrize("cut", [0, 10, 100, -40])
def test_result_load_of_an_empty_or_truncated_file_names_the_file(tmp_path, cut):
    import eplt

    path = tmp_path / "r.nc"
    eplt.Result(times=np.arange(50.0), expect={"purity": np.ones(50)}, method="exact").save(path)
    data = path.read_bytes()
    path.write_bytes(data[:cut] if cut >= 0 else data[: len(data) + cut])
    with pytest.raises(ValueError, match=r"cannot read .*r\.nc.* as a NetCDF result"):
        eplt.Result.load(path)

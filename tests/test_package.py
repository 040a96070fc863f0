"""The package surface: facade without a second import, one version source, licence, citation."""

import configparser
import re
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest
import qutip

import eplt

ROOT = Path(__file__).resolve().parent.parent


def test_facade_covers_the_common_work_without_a_second_import():
    # states, channels, LT certification on the channel, terms, processes, builders, metrics
    tau = eplt.thermal_state(eplt.qubit_hamiltonian(1.0), 1.0)
    E = eplt.eplt_channel(tau, tau)
    p_min = 1 / (1 + np.e)
    # N(E_gamma(Phi+)) = p_min (closed form), LT error of the channel ~ 0 for every input
    assert abs(eplt.negativity(E(eplt.phi_plus())) - p_min) < 1e-12
    assert eplt.lt_error(E.superoperator(), tau) < 1e-12
    # the isotropic twirl keeps <Phi+|rho|Phi+> and gives marginals I/2
    rho = eplt.werner_state(0.3)
    T = eplt.isotropic_twirl(rho)
    assert abs(qutip.expect(eplt.phi_plus(), T) - qutip.expect(eplt.phi_plus(), rho)) < 1e-12
    assert eplt.trace_distance(T.ptrace(0), qutip.qeye(2) / 2) < 1e-12
    # propagator of a model built from facade names: thermal resets, lt_error = (1-p_min) e^{-rt}
    env = eplt.Environment(
        (2, 2), [eplt.thermal_reset(0, tau, 1.0), eplt.thermal_reset(1, tau, 1.0)], taus=(tau, tau)
    )
    S = eplt.propagator(env, 0.7)
    assert abs(eplt.lt_error(S, tau) - (1 - p_min) * np.exp(-0.7)) < 1e-9
    for name in eplt.__all__:
        assert getattr(eplt, name) is not None, name
    assert eplt.__all__ == sorted(eplt.__all__), "keep __all__ sorted (one list, explicit)"


@pytest.mark.parametrize("d, omega", [(2, 1.0), (3, 0.5), (5, 2.0)])
def test_qudit_hamiltonian_is_the_equally_spaced_ladder(d, omega):
    H = eplt.qudit_hamiltonian(d, omega)
    assert H.dims == [[d], [d]]
    np.testing.assert_allclose(H.full(), np.diag(omega * np.arange(d)), atol=0)
    if d == 2:
        assert H == eplt.qubit_hamiltonian(omega)
    # Gibbs populations q^k (1 - q)/(1 - q^d), q = exp(-beta omega)
    beta = 0.8
    q = np.exp(-beta * omega)
    expected = q ** np.arange(d) * (1 - q) / (1 - q**d)
    np.testing.assert_allclose(eplt.thermal_state(H, beta).diag().real, expected, atol=1e-14)
    # the oscillator: omega a^dag a on d Fock levels
    np.testing.assert_allclose(H.full(), omega * qutip.num(d).full(), atol=0)


@pytest.mark.parametrize(
    "args, exc, words",
    [
        ((1,), ValueError, "d must be an integer >= 2"),
        ((2.0,), ValueError, "d must be an integer >= 2"),
        ((True,), ValueError, "d must be an integer >= 2"),
        ((3, 0.0), ValueError, "omega must lie in (0, inf)"),
        ((3, float("inf")), ValueError, "omega must lie in (0, inf)"),
        ((3, "x"), TypeError, "omega must be a real number"),
    ],
)
def test_qudit_hamiltonian_refuses_bad_input(args, exc, words):
    with pytest.raises(exc, match=re.escape(words)):
        eplt.qudit_hamiltonian(*args)


def _setup_cfg_version() -> str:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    return cfg["metadata"]["version"]


def test_one_version_source(capsys):
    from eplt.studies.cli import main

    assert eplt.__version__ == version("eplt") == _setup_cfg_version()
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"eplt {eplt.__version__}\n"
    cff = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert re.search(r"^version: (\S+)$", cff, re.M).group(1) == eplt.__version__


def test_licence_and_citation():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    assert cfg["metadata"]["license"] == "BSD-3-Clause"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("BSD 3-Clause License")
    assert "the eplt developers" in text
    assert "Neither the name of the copyright holder" in text
    cff = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert cff.startswith("cff-version: 1.2.0")
    assert "license: BSD-3-Clause" in cff
    # the paper the package rests on
    assert "doi: 10.1103/PhysRevResearch.2.013379" in cff
    assert "arXiv:1904.07945" in cff
    assert 'start: "013379"' in cff and "volume: 2" in cff and "year: 2020" in cff


def test_git_revision_only_of_the_eplt_checkout(tmp_path, monkeypatch):
    """metadata.json's git revision is eplt's own checkout, never an enclosing repository's."""
    import subprocess

    from eplt.studies import base

    rev = base._git_revision()
    inside_git = (ROOT / ".git").exists()
    if inside_git:
        assert re.fullmatch(r"[0-9a-f]{40}(-dirty)?", rev)
    # an installed copy at tmp/site/eplt/studies/base.py inside a user's repository: None
    git = ["git", "-C", str(tmp_path), "-c", "user.name=u", "-c", "user.email=u@example.org"]
    subprocess.run(git[:3] + ["init", "-q"], check=True)
    fake = tmp_path / "site" / "eplt" / "studies" / "base.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("")
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "user's project"], check=True)
    monkeypatch.setattr(base, "__file__", str(fake))
    assert base._git_revision() is None


def test_readme_speedup_tables_match_the_study():
    """The README's S(eps) and S(kappa/r) tables are the speedup study's numbers, recomputed."""
    import math

    from eplt.studies import speedup
    from eplt.studies._speedup_times import eps_and_kappa_dependence
    from eplt.studies.params import resolve

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    eps_head = re.search(r"^\| `eps` +\|(.*)\|$", text, re.M).group(1)
    eps_row = re.search(r"^\| `S` at `kappa = 10 r` +\|(.*)\|$", text, re.M).group(1)
    kr_head = re.search(r"^\| `kappa/r` \(`eps = 1e-3`\) +\|(.*)\|$", text, re.M).group(1)
    kr_row = re.search(r"^\| `S` +\|(.*)\|$", text, re.M).group(1)

    def cells(row):
        return [c.strip() for c in row.split("|")]

    p = resolve(speedup.PARAMS, {"beta": 1.0, "kappa": 10.0, "eps": 1e-3}, study="speedup")
    ratios = [float(c.split()[0]) for c in cells(kr_head)]
    dep = eps_and_kappa_dependence(p, ratios, speedup.EPS_VALUES, [1e-3], [10.0])
    quoted_eps = dict(zip(cells(eps_head), map(float, cells(eps_row))))
    assert len(quoted_eps) == 4
    for e, v in quoted_eps.items():
        assert round(dep["speedup_vs_eps"][f"{float(e):g}"], 2) == v, e
    for x, v in zip(ratios, map(float, cells(kr_row))):
        key = "inf" if math.isinf(x) else f"{x:g}"
        assert round(dep["speedup_vs_kappa_ratio"][key], 2) == v, x

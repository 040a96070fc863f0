"""Figure rules shared by the studies (eplt.studies.style): composable ``plot(result, ax)``,
one colour per scenario name across studies, text of at least 7 pt at the saved size."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from eplt.studies import esd, fef, ghz, speedup, style, thermo, threshold, twirl
from matplotlib.colors import to_hex
from matplotlib.text import Text

TINY = {
    "twirl": (twirl, {"n_times": 41, "ntraj": 16, "nodes": 6}),
    "threshold": (threshold, {"n_beta": 4, "n_F": 11, "n_random": 20, "betas_threshold": [0.5, 2]}),
    "ghz": (ghz, {"n_times": 41, "n_max": 3}),
    "esd": (esd, {"n_times": 41, "n_nbar": 3, "n_times_sweep": 21, "t_max": 4.0}),
    "fef": (fef, {"n_F": 11, "restarts": 0, "betas": [0.5, 2.0]}),
    "thermo": (thermo, {"n_times": 21, "t_hold": 2.0}),
}


@pytest.fixture(scope="module")
def results():
    return {name: mod.run(params, seed=1) for name, (mod, params) in TINY.items()}


def _scenario_colors(ax) -> dict[str, str]:
    """gid (scenario name) -> colour of every tagged line on ``ax``."""
    return {
        ln.get_gid(): to_hex(ln.get_color()) for ln in ax.get_lines() if ln.get_gid() is not None
    }


def test_second_study_keeps_labels_limits_and_scale_of_the_first(results):
    _, ax = plt.subplots()
    esd.plot(results["esd"], ax, which="negativity")
    first = (ax.get_xlabel(), ax.get_ylabel(), ax.get_title(), ax.get_xlim(), ax.get_ylim())
    assert first[0] and first[1] and first[2]
    ghz.plot(results["ghz"], ax, which="negativity")
    twirl.plot(results["twirl"], ax, which="distance")  # would set a log scale on its own
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == first[:3]
    assert ax.get_xlim() == first[3] and ax.get_ylim() == first[4]
    assert ax.get_yscale() == "linear"
    # the curves of all three studies are on the axis
    assert {"gad", "correlated", "brownian_correlated"} <= set(_scenario_colors(ax))


def test_decorate_true_overwrites_and_false_sets_nothing(results):
    _, ax = plt.subplots()
    esd.plot(results["esd"], ax, which="negativity")
    ghz.plot(results["ghz"], ax, which="fidelity", decorate=True)
    assert ax.get_ylabel().startswith("GHZ fidelity") and ax.get_ylim() == (0.0, 1.0)
    _, ax2 = plt.subplots()
    ax2.set_xlabel("mine")
    fef.plot(results["fef"], ax2, which="gap", decorate=False)
    assert ax2.get_xlabel() == "mine" and ax2.get_ylabel() == ""


def test_a_study_alone_labels_its_axes_with_the_time_unit(results):
    for mod, which in ((twirl, "distance"), (ghz, "fidelity"), (esd, "negativity")):
        _, ax = plt.subplots()
        mod.plot(results[mod.NAME], ax, which=which)
        assert ax.get_xlabel() == mod.TIME_LABEL and "$" in ax.get_xlabel()
        assert ax.get_ylabel()


def test_legend_is_all_or_none(results):
    _, ax = plt.subplots()
    esd.plot(results["esd"], ax, which="negativity", legend=False)
    assert ax.get_legend() is None
    ghz.plot(results["ghz"], ax, which="negativity")
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    # one legend of everything on the axis: both studies' scenarios
    assert set(esd.LABELS.values()) <= set(texts) and set(ghz.LABELS.values()) <= set(texts)
    _, ax2 = plt.subplots()
    fef.plot(results["fef"], ax2, which="fef", legend=False)
    assert ax2.get_legend() is None


def test_one_colour_per_scenario_name_across_studies(results):
    seen: dict[str, str] = {}
    for mod, which in (
        (twirl, "distance"),
        (twirl, "negativity"),
        (ghz, "fidelity"),
        (ghz, "vs_n"),
        (esd, "negativity"),
        (esd, "esd_vs_nbar"),
        (thermo, "energy"),
    ):
        _, ax = plt.subplots()
        mod.plot(results[mod.NAME], ax, which=which)
        colors = _scenario_colors(ax)
        assert set(colors) == {str(s) for s in results[mod.NAME].data["scenario"].values}
        for name, c in colors.items():
            assert c == to_hex(style.SCENARIO_COLORS[name]), (mod.NAME, name)
            assert seen.setdefault(name, c) == c
        # scenarios of one study are told apart by colour
        assert len(set(colors.values())) == len(colors)
    # families share a colour across studies: independent baths with the same local statistics
    indep = {seen[n] for n in ("independent", "brownian_independent", "reset_independent")}
    shared = {seen[n] for n in ("correlated", "brownian_correlated", "reset_shared")}
    assert len(indep) == 1 and len(shared) == 1 and indep != shared


def test_palette_covers_every_scenario_name():
    names = set(speedup.SCENARIOS) | set(twirl.SCENARIOS) | set(ghz.SCENARIOS) | set(esd.SCENARIOS)
    names |= set(thermo.SCENARIOS)
    names |= {"no_shared_randomness", "independent_damping_stopped", "thermal", "gad"}
    assert names <= set(style.SCENARIO_COLORS) == set(style.SCENARIO_LINESTYLES)
    assert style.scenario_style("correlated") == {"color": style.BLUE, "ls": "-"}
    with pytest.raises(KeyError, match="no colour"):
        style.scenario_style("nonexistent")


@pytest.mark.parametrize("name", sorted(TINY))
def test_figures_text_at_least_7pt_and_at_most_page_wide(results, name):
    mod = TINY[name][0]
    for key, fig in mod.figures(results[name]).items():
        fig.canvas.draw()  # creates the tick labels
        small = [
            (t.get_text(), t.get_fontsize())
            for t in fig.findobj(Text)
            if t.get_visible() and t.get_text().strip() and t.get_fontsize() < style.MIN_FONT
        ]
        assert not small, (name, key, small)
        width = fig.get_tightbbox(fig.canvas.get_renderer()).width  # inches, as saved
        assert width <= style.PAGE + 0.1, (name, key, width)
        plt.close(fig)


def test_decorator_rejects_a_non_boolean():
    _, ax = plt.subplots()
    with pytest.raises(TypeError, match="decorate must be None, True or False"):
        style.Decorator(ax, "yes")


def test_param_labels_are_valid_mathtext_for_every_declared_parameter():
    from eplt.studies import STUDIES, get_study
    from eplt.studies.params import Param, rate_param
    from matplotlib.mathtext import MathTextParser

    parser = MathTextParser("path")
    for study in STUDIES:
        for p in get_study(study).PARAMS:
            label = style.param_label(p)
            assert label.count("$") % 2 == 0, (study, p.name, label)
            parser.parse(label)  # raises ValueError on a malformed expression
            if p.unit:
                assert label.endswith("]"), label
    assert style.param_label(rate_param()) == r"$r$ [$\omega$]"  # its declared symbol
    assert style.param_label(Param("n_F", 1, "int")) == "$n_{F}$"
    assert style.param_label(Param("eps", 1e-3)) == r"$\epsilon$"
    assert style.param_label(Param("t_max", 1.0, unit="1/kappa")) == (
        r"$t_{\mathrm{max}}$ [$1/\kappa$]"
    )
    # not symbols: the name and unit as they are
    assert style.param_label(Param("coloured_tau_c", 1.0, unit="1/time")) == (
        "coloured_tau_c [1/time]"
    )
    assert style.param_label(Param("n_times_sweep", 1, "int")) == (
        r"$n_{\mathrm{times},\mathrm{sweep}}$"
    )

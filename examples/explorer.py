"""The dataset explorer as code: covariances, spectra and the SPD geometry of a dataset, from one settings object.

A notebook-style script: run it with ``python examples/explorer.py``, or cell by cell (``# %%``). It uses only the
public ``covwb`` API and writes one HTML figure into the current folder.
"""

# %%
# Every page of the workbench keeps what the user chose in one frozen settings object; the same object is the
# argument of the page's one library call, its cache key, its link and its exported settings. Here: the
# simulated motor-imagery recording, epochs of both hands around C3/Cz/C4, OAS covariances, and their geometry
# under the affine-invariant and Bures-Wasserstein metrics.
from covwb.eeg import EpochSettings
from covwb.explore import ExplorerSettings, explore
from covwb.export import export_figure
from covwb.plots import explorer_figures
from covwb.sources import BuiltinSource

settings = ExplorerSettings(
    source=BuiltinSource("simulated_eeg", seed=0),
    epochs=EpochSettings(classes=("left_hand", "right_hand"), tmin=0.5, tmax=2.5, channels=("C3", "Cz", "C4")),
    estimator="oas",
    metrics=("riemann", "wasserstein"),
)
print(settings.to_query())  # what a link to this view carries: only what differs from the defaults

# %%
# One call computes everything the explorer shows. The result carries the explicit settings (automatic values
# filled in), warnings that say what may be wrong and what to do, and every table.
result = explore(settings)
print(type(result).__name__, "warnings:", result.warnings)
for name, table in result.tables().items():
    print(f"{name}: {table.shape}")

# %%
# The geometry of the epoch covariances: pairwise distances, a 2-D map (classical MDS) and the mean, per metric.
for metric, summary in result.geometry.items():
    print(f"{metric}: distances {summary.distances.shape}, mean of {summary.mean.shape[0]} channels")

# %%
# The same figures as the page, and one of them exported as a self-contained HTML file that carries the settings.
figures = explorer_figures(result)
print(list(figures))
page = export_figure(figures["mds-riemann"], "html", name="mds-riemann", settings=result.settings)
with open(page.file_name, "wb") as file:
    file.write(page.data)
print("wrote", page.file_name)

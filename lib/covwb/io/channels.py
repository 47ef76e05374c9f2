"""Channel names and positions of uploaded EEG: dotted EEGBCI names and the standard 10-20 montage.

PhysioNet's EEG Motor Movement/Imagery recordings (EEGMMIDB, read by MNE as ``eegbci``) pad
their EDF channel labels with dots to four characters (``'Fc5.'``, ``'C3..'``, ``'Cz..'``),
so no standard name matches them: montages find no positions and picks of ``C3``/``Cz``/``C4``
find nothing. :func:`standardise_dotted_names` renames them with MNE's own rule for those
files (:func:`mne.datasets.eegbci.standardize`, which needs no download). Positions come from
MNE's ``colin27_1020`` template (the standard 10-20/10-10 positions, called ``standard_1020``
before MNE 1.13).
"""

from __future__ import annotations

from typing import Any

STANDARD_MONTAGE = "colin27_1020"
"""MNE's name for the standard 10-20 montage ('standard_1020' is deprecated since MNE 1.13)."""
_MAX_LISTED = 4


def standardise_dotted_names(raw: Any) -> str | None:
    """Rename channels whose labels end in dots as ``mne.datasets.eegbci.standardize`` does.

    Only labels ending in ``.`` change (``'Fc5.'`` becomes ``'FC5'``, ``'Fpz.'`` becomes
    ``'Fpz'``, ``'C3..'`` becomes ``'C3'``); the rule is MNE's, applied to a copy of the
    channel list so that other labels keep their case. Nothing changes when a new name
    would collide with another channel.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        Recording whose channels are renamed in place.

    Returns
    -------
    str or None
        A report sentence on what was renamed (or why not), ``None`` when no label ends in a dot.

    Examples
    --------
    >>> import mne, numpy as np
    >>> info = mne.create_info(["Fc5.", "C3..", "Cz..", "Status"], 160.0, "eeg")
    >>> raw = mne.io.RawArray(np.zeros((4, 2)), info, verbose=False)
    >>> print(standardise_dotted_names(raw))
    3 channel labels ended in dots, as PhysioNet EEGMMIDB (eegbci) writes them; renamed as MNE's mne.datasets.eegbci.standardize does: 'Fc5.' -> 'FC5', 'C3..' -> 'C3', 'Cz..' -> 'Cz'.
    >>> raw.ch_names
    ['FC5', 'C3', 'Cz', 'Status']
    """
    import mne
    import numpy as np
    from mne.datasets import eegbci

    dotted = [name for name in raw.ch_names if name.endswith(".")]
    if not dotted:
        return None
    probe = mne.io.RawArray(np.zeros((len(dotted), 1)), mne.create_info(dotted, 1.0), verbose=False)
    try:
        eegbci.standardize(probe)
    except ValueError as error:
        return f"Channel labels end in dots but were kept: standardising them would repeat a name ({error})."
    mapping = dict(zip(dotted, probe.ch_names))
    others = set(raw.ch_names) - set(dotted)
    clashes = [new for new in mapping.values() if new in others]
    if clashes:
        return f"Channel labels end in dots but were kept: standardising them would repeat the channel '{clashes[0]}'."
    raw.rename_channels(mapping, verbose=False)
    renamed = [f"'{old}' -> '{new}'" for old, new in mapping.items() if old != new]
    more = f" and {len(renamed) - _MAX_LISTED} more" if len(renamed) > _MAX_LISTED else ""
    return (
        f"{len(dotted)} channel labels ended in dots, as PhysioNet EEGMMIDB (eegbci) writes them; renamed as "
        f"MNE's mne.datasets.eegbci.standardize does: {', '.join(renamed[:_MAX_LISTED])}{more}."
    )


def set_standard_positions(raw: Any) -> str:
    """Set positions from the standard 10-20 montage for the EEG channels whose names it knows.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        Recording without positions; changed in place (names matched regardless of case).

    Returns
    -------
    str
        A report sentence: how many channels got positions, or why none did.
    """
    import mne

    eeg = [raw.ch_names[i] for i in mne.pick_types(raw.info, eeg=True, exclude=[])]
    known = {name.lower() for name in mne.channels.make_standard_montage(STANDARD_MONTAGE).ch_names}
    matched = [name for name in eeg if name.lower() in known]
    if not matched:
        return "No channel name is in the standard 10-20 montage, so channels have no positions."
    try:
        raw.set_montage(STANDARD_MONTAGE, match_case=False, on_missing="ignore", verbose=False)
    except ValueError as error:
        return f"Channel positions were not set ({error})."
    return f"Positions from the standard 10-20 montage were set for {len(matched)} of {len(eeg)} channels."

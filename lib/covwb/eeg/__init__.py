"""EEG processing on MNE objects: events, filtering, epochs and epoch covariances."""

"""SPD networks in torch: Bures-Wasserstein geometry, Riemannian batch normalisation, SPDNet, training."""

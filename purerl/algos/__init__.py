"""One module per algorithm family; each reads top to bottom like its algorithm box."""

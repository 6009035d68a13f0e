//! Officer page tests (being written).

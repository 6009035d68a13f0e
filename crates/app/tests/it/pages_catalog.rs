//! Page tests (being written).

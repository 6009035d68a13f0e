//! Legal time: working calendar, Vietnamese lunar holidays, deadlines (issue 3).

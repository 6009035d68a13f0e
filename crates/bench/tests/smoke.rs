//! Smoke test: `motcua-bench --quick --backend sqlite` against the debug-built `motcua`; the
//! JSON must have every phase with a positive rate and no failed operation.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const PHASES: [&str; 6] = [
    "intake",
    "lifecycle",
    "lookup",
    "import",
    "report_total",
    "report_by_agency",
];

/// The `motcua` binary: `MOTCUA_BIN`, else next to `motcua-bench` in this target directory
/// (`cargo test` from the workspace root builds it for the app's tests), else built into a
/// separate target directory (the outer cargo holds the lock on this one while tests run).
fn motcua_binary(bench: &Path) -> PathBuf {
    if let Some(p) = std::env::var_os("MOTCUA_BIN") {
        return PathBuf::from(p);
    }
    let dir = bench.parent().expect("the binary is in a directory");
    let beside = dir.join("motcua");
    if beside.is_file() {
        return beside;
    }
    let target = dir.join("bench-smoke-target");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "-p", "motcua", "--target-dir"])
        .arg(&target)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo runs");
    assert!(status.success(), "cargo build -p motcua failed");
    target.join("debug/motcua")
}

#[test]
fn quick_run_on_sqlite_measures_every_phase_without_errors() {
    let bench = PathBuf::from(env!("CARGO_BIN_EXE_motcua-bench"));
    let motcua = motcua_binary(&bench);
    let out = std::env::temp_dir().join(format!("motcua-bench-smoke-{}.json", std::process::id()));
    let run = Command::new(&bench)
        .args(["--quick", "--backend", "sqlite", "--motcua"])
        .arg(&motcua)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("motcua-bench runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "motcua-bench failed:\n{stdout}\n{stderr}");
    let doc: Value =
        serde_json::from_slice(&std::fs::read(&out).expect("the JSON was written")).expect("JSON");
    let _ = std::fs::remove_file(&out);

    let phases = doc["phases"].as_array().expect("phases");
    for name in PHASES {
        let p = phases
            .iter()
            .find(|p| p["phase"] == name && p["backend"] == "sqlite")
            .unwrap_or_else(|| panic!("no {name} phase in {doc:#}"));
        assert!(
            p["rate_per_s"].as_f64().unwrap_or(0.0) > 0.0,
            "{name}: no positive rate: {p}"
        );
        assert!(p["count"].as_u64().unwrap_or(0) > 0, "{name}: nothing done: {p}");
        assert_eq!(p["errors"], 0, "{name}: errors: {p}");
    }
    assert!(
        doc["baselines"]["sqlite"]["insert_per_s"].as_f64().unwrap_or(0.0) > 0.0,
        "{doc:#}"
    );
    assert!(
        doc["baselines"]["sqlite"]["select_per_s"].as_f64().unwrap_or(0.0) > 0.0,
        "{doc:#}"
    );
    let import = phases.iter().find(|p| p["phase"] == "import").expect("import");
    assert!(
        import["extra"]["bytes_per_dossier"].as_f64().unwrap_or(0.0) > 0.0,
        "{import}"
    );
    let servers = doc["servers"].as_array().expect("servers");
    assert!(
        servers
            .iter()
            .all(|s| s["peak_rss_bytes"].as_u64().unwrap_or(0) > 0),
        "{servers:?}"
    );
    assert!(doc["machine"]["cores"].as_u64().unwrap_or(0) > 0);
    assert!(
        stdout.contains("phase") && stdout.contains("lifecycle"),
        "the table is printed: {stdout}"
    );
}

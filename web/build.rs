//! Bundles the repository's graphs into the playground (`graphs/*.ron`,
//! chosen from a list on the page) and, for the browser tests, the golden
//! images they are held to, by listing the directories: a graph added to
//! `graphs/` is on the page and under test without a line written here.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn listed(dir: &Path, ext: &str) -> Vec<PathBuf> {
    println!("cargo::rerun-if-changed={}", dir.display());
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .expect("a file name")
        .to_string_lossy()
        .into_owned()
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));

    let mut graphs = String::from("&[\n");
    for path in listed(&root.join("graphs"), "ron") {
        let path = path.canonicalize().expect("a graph file");
        writeln!(graphs, "    ({:?}, include_str!({:?})),", stem(&path), path).unwrap();
    }
    graphs.push(']');
    std::fs::write(out.join("graphs.rs"), graphs).expect("OUT_DIR is writable");

    let mut golden = String::from("&[\n");
    for path in listed(&root.join("tests/golden"), "png") {
        let path = path.canonicalize().expect("a golden image");
        writeln!(
            golden,
            "    ({:?}, include_bytes!({:?})),",
            stem(&path),
            path
        )
        .unwrap();
    }
    golden.push(']');
    std::fs::write(out.join("golden.rs"), golden).expect("OUT_DIR is writable");
}

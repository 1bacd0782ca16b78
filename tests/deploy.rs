//! The cluster examples in deploy/ do what they say: the Slurm array script
//! and the Kubernetes Indexed Job's command, run once per task with the
//! variables each scheduler sets, write what one run writes. (The
//! schedulers themselves are not here; what they hand a task is.)

use std::path::{Path, PathBuf};
use std::process::Command;

use saphyr::{LoadableYamlNode, Yaml};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const BIN: &str = env!("CARGO_BIN_EXE_stillgraph");

/// Eight small frames in `dir/frames`.
fn frames(dir: &Path) -> PathBuf {
    let frames = dir.join("frames");
    std::fs::create_dir(&frames).unwrap();
    for i in 0..8u32 {
        image::RgbImage::from_fn(24 + i, 16, |x, y| {
            image::Rgb([(x * 9) as u8, (y * 13) as u8, (i * 30) as u8])
        })
        .save(frames.join(format!("f{i}.png")))
        .unwrap();
    }
    frames
}

fn snapshot(dir: &Path) -> Vec<(std::ffi::OsString, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name(), std::fs::read(e.path()).unwrap())
        })
        .collect();
    v.sort();
    v
}

/// One run over all the frames, on `backend` (the examples' own, so that
/// a machine with a GPU compares GPU with GPU).
fn one_run(frames: &Path, out: &Path, backend: &str) {
    let o = Command::new(BIN)
        .args(["run", "graphs/three_ops.ron", "--backend", backend, "-i"])
        .arg(frames)
        .arg("-o")
        .arg(out)
        .current_dir(ROOT)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn the_slurm_array_script_splits_the_frames_as_one_run_would_write_them() {
    let dir = tempfile::tempdir().unwrap();
    let frames = frames(dir.path());
    // The script leaves the backend to `auto`.
    one_run(&frames, &dir.path().join("whole"), "auto");
    let out = dir.path().join("array");
    for task in 0..3 {
        let o = Command::new("bash")
            .arg("deploy/slurm.sbatch")
            .current_dir(ROOT)
            .env("STILLGRAPH", BIN)
            .env("INPUT", &frames)
            .env("OUTPUT", &out)
            .env("SLURM_ARRAY_TASK_ID", task.to_string())
            .env("SLURM_ARRAY_TASK_COUNT", "3")
            .env("SLURM_CPUS_PER_TASK", "1")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "task {task}: {err}");
        assert!(err.contains(&format!("shard {task} of 3")), "{err}");
    }
    assert!(snapshot(&out) == snapshot(&dir.path().join("whole")));
}

#[test]
fn the_kubernetes_indexed_job_covers_every_frame_once() {
    let text = std::fs::read_to_string(Path::new(ROOT).join("deploy/k8s-job.yaml")).unwrap();
    let docs = Yaml::load_from_str(&text).unwrap();
    let spec = &docs[0]["spec"];
    assert_eq!(spec["completionMode"].as_str(), Some("Indexed"));
    let completions = spec["completions"].as_integer().unwrap();
    let container = &spec["template"]["spec"]["containers"][0];
    let env = container["env"].as_vec().unwrap();
    let count = env
        .iter()
        .find(|e| e["name"].as_str() == Some("STILLGRAPH_SHARD_COUNT"))
        .and_then(|e| e["value"].as_str())
        .expect("STILLGRAPH_SHARD_COUNT is set");
    assert_eq!(
        count,
        completions.to_string(),
        "the shard count is the Job's completions"
    );

    // The container's command, with the image's and the volume's paths
    // pointed at this checkout and a scratch folder.
    let dir = tempfile::tempdir().unwrap();
    let frames = frames(dir.path());
    one_run(&frames, &dir.path().join("whole"), "cpu");
    let data = dir.path().display().to_string();
    let args: Vec<String> = container["args"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|a| {
            a.as_str()
                .unwrap()
                .replace("/opt/stillgraph", ROOT)
                .replace("/data", &data)
        })
        .collect();
    for index in 0..completions {
        let o = Command::new(BIN)
            .args(&args)
            .args(["--backend", "cpu"])
            .env("JOB_COMPLETION_INDEX", index.to_string())
            .env("STILLGRAPH_SHARD_COUNT", count)
            .env_remove("SLURM_ARRAY_TASK_ID")
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "index {index}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    assert!(snapshot(&dir.path().join("out")) == snapshot(&dir.path().join("whole")));
}

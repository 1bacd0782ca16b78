//! Video in and out through ffmpeg, as a user runs it: frames chosen by
//! time, a round trip to a video, damaged clips, shards and restarts. The
//! clips are made here with ffmpeg's own test sources.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use stillgraph::io::video::Ffmpeg;

/// ffmpeg, or `None` with a loud message; with `STILLGRAPH_REQUIRE_FFMPEG=1`
/// (as CI sets) a missing ffmpeg fails the test.
fn ffmpeg() -> Option<Ffmpeg> {
    match Ffmpeg::find(Path::new("the tests")) {
        Ok(f) => Some(f),
        Err(e) if std::env::var("STILLGRAPH_REQUIRE_FFMPEG").as_deref() == Ok("1") => {
            panic!("STILLGRAPH_REQUIRE_FFMPEG=1 but {e}")
        }
        Err(e) => {
            eprintln!("\n!!! VIDEO TEST SKIPPED: {e}\n");
            None
        }
    }
}

/// A clip of ffmpeg's `testsrc` (a picture with a frame counter), 64×48 at
/// 10 frames a second, three seconds: 30 frames.
fn clip(ff: &Ffmpeg, path: &Path) {
    let o = Command::new(&ff.ffmpeg)
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc=size=64x48:rate=10")
        .args(["-t", "3", "-pix_fmt", "yuv420p"])
        .arg(path)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn stillgraph(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stillgraph"))
        .args(args)
        .current_dir(dir)
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("JOB_COMPLETION_INDEX")
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A pipeline whose damage depends on the frame index (`animate`), so that
/// a frame given the wrong index comes out different.
const ANIMATED: &str =
    "(steps: [(name: \"hot\", op: salt_pepper(amount: 0.1, salt_vs_pepper: 0.5), animate: true)])";
/// Returns each frame as it came.
const IDENTITY: &str = "(steps: [(name: \"same\", op: saturation(mode: fixed, value: 0.0))])";

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    names(dir)
        .into_iter()
        .map(|n| {
            let bytes = std::fs::read(dir.join(&n)).unwrap();
            (n, bytes)
        })
        .collect()
}

/// Frames and rate of a video, counted by decoding it.
fn probe(ff: &Ffmpeg, video: &Path) -> (u32, String) {
    let o = Command::new(&ff.ffprobe)
        .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
        .args(["-show_entries", "stream=nb_read_frames,avg_frame_rate"])
        .args(["-of", "default=noprint_wrappers=1"])
        .arg(video)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let field = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(k))
            .unwrap_or_else(|| panic!("{k} missing in {text}"))
            .to_string()
    };
    (
        field("nb_read_frames=").parse().unwrap(),
        field("avg_frame_rate="),
    )
}

fn setup(ff: &Ffmpeg) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    clip(ff, &dir.path().join("clip.mp4"));
    for (name, text) in [("animated.ron", ANIMATED), ("identity.ron", IDENTITY)] {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let d = dir.path().to_path_buf();
    (dir, d)
}

#[test]
fn frames_are_chosen_by_start_end_and_every_and_named_by_their_number() {
    let Some(ff) = ffmpeg() else { return };
    let (_tmp, dir) = setup(&ff);
    let run = |out: &str, extra: &[&str]| {
        let mut args = vec![
            "run",
            "identity.ron",
            "--backend",
            "cpu",
            "-i",
            "clip.mp4",
            "-o",
            out,
        ];
        args.extend_from_slice(extra);
        let o = stillgraph(&dir, &args);
        assert!(o.status.success(), "{extra:?}: {}", stderr(&o));
        names(&dir.join(out))
    };
    let expect = |numbers: &[u32]| -> Vec<String> {
        numbers.iter().map(|n| format!("clip_{n:06}.png")).collect()
    };
    assert_eq!(run("all", &[]).len(), 30);
    // 0.3 s is frame 3; the times 0.3, 0.8, 1.3, 1.8 s; 2 s is excluded.
    assert_eq!(
        run("every", &["--start", "0.3", "--end", "2", "--every", "0.5"]),
        expect(&[3, 8, 13, 18])
    );
    assert_eq!(
        run("fps", &["--fps", "2", "--end", "00:00:01.5"]),
        expect(&[0, 5, 10])
    );
    assert_eq!(run("tail", &["--start", "0:02.7"]), expect(&[27, 28, 29]));

    // Frame 13 is the clip's 14th frame, as ffmpeg itself numbers them.
    let o = Command::new(&ff.ffmpeg)
        .args(["-v", "error", "-i", "clip.mp4", "-vf", "select=eq(n\\,13)"])
        .args(["-frames:v", "1", "-pix_fmt", "rgb24", "f13.png"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ours = image::open(dir.join("every/clip_000013.png"))
        .unwrap()
        .to_rgb8();
    let theirs = image::open(dir.join("f13.png")).unwrap().to_rgb8();
    assert!(ours == theirs, "frame 13 is not ffmpeg's frame 13");
}

#[test]
fn a_video_round_trip_keeps_the_frame_count_and_rate() {
    let Some(ff) = ffmpeg() else { return };
    let (_tmp, dir) = setup(&ff);
    for (out, extra, frames, rate) in [
        ("same.mp4", &[][..], 30, "10/1"),
        ("half.mkv", &["--fps", "5"][..], 15, "5/1"),
        ("vp9.webm", &["--end", "1"][..], 10, "10/1"),
    ] {
        let mut args = vec!["run", "animated.ron", "-i", "clip.mp4", "-o", out];
        args.extend_from_slice(extra);
        let o = stillgraph(&dir, &args);
        assert!(o.status.success(), "{out}: {}", stderr(&o));
        assert_eq!(
            probe(&ff, &dir.join(out)),
            (frames, rate.to_string()),
            "{out}"
        );
    }
    // Images in, video out, at --fps; no temporary file left.
    let o = stillgraph(
        &dir,
        &["run", "identity.ron", "-i", "clip.mp4", "-o", "frames"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = stillgraph(
        &dir,
        &[
            "run",
            "identity.ron",
            "-i",
            "frames",
            "-o",
            "again.mov",
            "--fps",
            "30000/1001",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        probe(&ff, &dir.join("again.mov")),
        (30, "30000/1001".to_string())
    );
    assert!(
        names(&dir).iter().all(|n| !n.ends_with(".tmp")),
        "{:?}",
        names(&dir)
    );
}

#[test]
fn a_damaged_clip_keeps_the_frames_it_has_and_says_what_ffmpeg_said() {
    let Some(ff) = ffmpeg() else { return };
    let (_tmp, dir) = setup(&ff);
    // Matroska, cut at 60%: ffmpeg decodes the frames before the cut.
    let o = Command::new(&ff.ffmpeg)
        .args(["-v", "error", "-i", "clip.mp4", "-c", "copy", "whole.mkv"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(o.status.success());
    let bytes = std::fs::read(dir.join("whole.mkv")).unwrap();
    std::fs::write(dir.join("cut.mkv"), &bytes[..bytes.len() * 6 / 10]).unwrap();
    let o = stillgraph(
        &dir,
        &[
            "run",
            "identity.ron",
            "--backend",
            "cpu",
            "-i",
            "cut.mkv",
            "-o",
            "out",
        ],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("cut.mkv: ffmpeg") && err.contains("File ended prematurely"),
        "{err}"
    );
    let kept = names(&dir.join("out")).len();
    assert!((1..30).contains(&kept), "{kept} frames kept");
    // A file that is no video at all is refused with ffprobe's reason.
    std::fs::write(dir.join("junk.mp4"), b"not a video").unwrap();
    let o = stillgraph(
        &dir,
        &["run", "identity.ron", "-i", "junk.mp4", "-o", "junk"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("junk.mp4: ffprobe cannot read it"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn video_shards_write_what_one_run_writes_and_a_restart_finishes_the_set() {
    let Some(ff) = ffmpeg() else { return };
    let (_tmp, dir) = setup(&ff);
    let run = |out: &str, extra: &[&str]| {
        let mut args = vec!["run", "animated.ron", "--backend", "cpu", "-i", "clip.mp4"];
        args.extend_from_slice(&["--every", "0.2", "-o", out]);
        args.extend_from_slice(extra);
        let o = stillgraph(&dir, &args);
        assert!(o.status.success(), "{extra:?}: {}", stderr(&o));
        stderr(&o)
    };
    run("whole", &[]);
    let whole = files(&dir.join("whole"));
    assert_eq!(whole.len(), 15);
    for n in [1, 3, 7] {
        let out = format!("shards{n}");
        for k in 0..n {
            run(&out, &["--shard", &format!("{k}/{n}")]);
        }
        assert!(
            files(&dir.join(&out)) == whole,
            "{n} shards differ from one run"
        );
    }
    // As if a run had been killed: outputs missing, a temporary file left by
    // a process that is gone (pid 4194304 is past Linux's largest).
    let out = dir.join("shards3");
    for (name, _) in &whole[9..] {
        std::fs::remove_file(out.join(name)).unwrap();
    }
    std::fs::write(out.join(".clip_000050.png.4194304.tmp"), b"half a frame").unwrap();
    let said = run("shards3", &["--skip-existing"]);
    assert!(said.contains("9 frames skipped"), "{said}");
    assert!(
        files(&out) == whole,
        "the restart does not finish the set as one run"
    );
}

#[test]
fn without_ffmpeg_video_fails_with_how_to_install_it_and_images_still_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("identity.ron"), IDENTITY).unwrap();
    std::fs::write(dir.path().join("clip.mp4"), b"").unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_stillgraph"))
            .args(args)
            .current_dir(dir.path())
            .env("STILLGRAPH_FFMPEG", "/nonexistent/ffmpeg")
            .output()
            .unwrap()
    };
    let o = run(&["run", "identity.ron", "-i", "clip.mp4"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("clip.mp4: video needs the ffmpeg program")
            && err.contains("apt install ffmpeg"),
        "{err}"
    );
    let o = run(&["run", "identity.ron", "--backend", "cpu", "-o", "out"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn a_video_output_refuses_what_it_cannot_hold() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("identity.ron"), IDENTITY).unwrap();
    std::fs::write(
        dir.path().join("two.ron"),
        "(steps: [(name: \"a\", op: saturation(mode: fixed, value: 0.5)), (name: \"b\", op: blur_gaussian(sigma: 1.0))])",
    )
    .unwrap();
    let o = stillgraph(
        dir.path(),
        &["run", "two.ron", "--save-intermediate", "-o", "x.mp4"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("x.mp4: a video takes one frame for each input frame"),
        "{}",
        stderr(&o)
    );
    let o = stillgraph(
        dir.path(),
        &["run", "identity.ron", "--shard", "0/2", "-o", "x.mp4"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("written whole by one run"),
        "{}",
        stderr(&o)
    );
    let o = stillgraph(dir.path(), &["run", "identity.ron", "--start", "2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("video input"), "{}", stderr(&o));
}

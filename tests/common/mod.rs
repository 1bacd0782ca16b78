//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::Path;

use stillgraph::io::{decode_file, to_frame};
use stillgraph::{Backend, Engine, Frame, Keep, Pipeline, Plan, Size, compile};

/// A GPU engine, or `None` with a loud message when there is no adapter.
/// With `STILLGRAPH_REQUIRE_GPU=1` (as CI sets) a missing GPU fails the test.
pub fn gpu_engine() -> Option<Engine> {
    match Engine::new(Backend::Gpu) {
        Ok(engine) => Some(engine),
        Err(e) if std::env::var("STILLGRAPH_REQUIRE_GPU").as_deref() == Ok("1") => {
            panic!("STILLGRAPH_REQUIRE_GPU=1 but the GPU backend cannot start: {e}")
        }
        Err(e) => {
            eprintln!(
                "\n!!! GPU TEST SKIPPED: {e}\n!!! install mesa-vulkan-drivers for a software adapter\n"
            );
            None
        }
    }
}

/// A frame with what breaks kernels: smooth gradients, hard edges, fine
/// noise, saturated and gray areas, and a varying alpha. Odd sizes keep
/// partial workgroups honest.
pub fn test_frame(width: u32, height: u32) -> Frame {
    let mut f = Frame::new(Size::new(width, height));
    let w = width as usize;
    for (i, p) in f.pixels_mut().iter_mut().enumerate() {
        let (x, y) = ((i % w) as u32, (i / w) as u32);
        let noise = (x.wrapping_mul(73_856_093) ^ y.wrapping_mul(19_349_663))
            .wrapping_mul(2_654_435_761)
            >> 24;
        let (r, g, b) = if (x / 8 + y / 8) % 5 == 0 {
            (x * 255 / width, x * 255 / width, x * 255 / width)
        } else if x > width / 2 {
            (255 * u32::from(y % 16 < 8), noise, 40)
        } else {
            (x * 255 / width, y * 255 / height, noise)
        };
        let a = 255 - (x + y) % 256;
        *p = r | (g << 8) | (b << 16) | (a << 24);
    }
    f
}

/// Compiles pipeline text.
pub fn plan(text: &str) -> Plan {
    let p = Pipeline::parse(text, "test").unwrap_or_else(|e| panic!("{e}"));
    compile(&p, Keep::Outputs).unwrap()
}

/// The largest channel difference and where it is: (diff, x, y, a, b).
pub fn max_diff(a: &Frame, b: &Frame) -> (u8, u32, u32, u32, u32) {
    assert_eq!(a.size(), b.size(), "sizes differ");
    let mut worst = (0u8, 0, 0, 0, 0);
    for (i, (&p, &q)) in a.pixels().iter().zip(b.pixels()).enumerate() {
        let d = p
            .to_le_bytes()
            .iter()
            .zip(q.to_le_bytes())
            .map(|(x, y)| x.abs_diff(y))
            .max()
            .unwrap();
        if d > worst.0 {
            let w = a.width();
            worst = (d, i as u32 % w, i as u32 / w, p, q);
        }
    }
    worst
}

/// Asserts two frames are within `tol` levels on every channel, naming the
/// worst pixel and both values when not.
pub fn assert_close(what: &str, a: &Frame, b: &Frame, tol: u8) {
    let (d, x, y, p, q) = max_diff(a, b);
    assert!(
        d <= tol,
        "{what}: max difference {d} > {tol} at ({x}, {y}): {:?} vs {:?} (RGBA)",
        p.to_le_bytes(),
        q.to_le_bytes()
    );
}

/// A crop of every photo in assets/ (sorted by name), the `i`-th of the
/// size `size(i)` gives, from a third of the way across and a quarter down.
pub fn photo_crops(size: impl Fn(u32) -> (u32, u32)) -> Vec<(String, Frame)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".png") || n.ends_with(".jpg"))
        .collect();
    names.sort();
    assert!(names.len() >= 4, "photos in assets/: {names:?}");
    names
        .into_iter()
        .zip(0..)
        .map(|(name, i)| {
            let image = decode_file(&dir.join(&name)).unwrap();
            let (w, h) = size(i);
            let crop = image.crop_imm(image.width() / 3, image.height() / 4, w, h);
            (name, to_frame(&crop).0)
        })
        .collect()
}

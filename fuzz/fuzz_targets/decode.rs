//! Any bytes as an image through our I/O (format sniffing, size limits,
//! EXIF orientation, conversion to a frame and back): never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use stillgraph::io::{decode_bytes, from_frame, to_frame};

fuzz_target!(|data: &[u8]| {
    if let Ok(image) = decode_bytes(data, Path::new("fuzz")) {
        let (frame, kind) = to_frame(&image);
        let back = from_frame(&frame, kind);
        assert_eq!(
            (back.width(), back.height()),
            (frame.width(), frame.height())
        );
    }
});

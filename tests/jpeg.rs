//! The JPEG ops against a real codec: libjpeg-turbo's code as MozJPEG
//! ships it (the `mozjpeg-sys` crate compiles it from source with the C
//! compiler; no system library), set to libjpeg-turbo's own behaviour by
//! MozJPEG's `JCP_FASTEST` profile: the Annex K tables scaled by quality and
//! clamped to baseline, no trellis quantization or deringing. It compresses
//! with the accurate integer DCT as `jpeg_set_defaults` and Pillow do, and
//! decodes with libjpeg's defaults (accurate IDCT, fancy upsampling).
//!
//! The bar of the JPEG issue is a PSNR of at least 45 dB against the codec's
//! round trip on both backends; every case is also checked to be identical
//! to the codec, which is what the kernels are built to be.

mod common;

use std::ffi::{c_int, c_ulong, c_void};

use common::gpu_engine;
use mozjpeg_sys as jpeg;
use stillgraph::{Engine, Frame, Size};

/// Crops of every photo in assets/, at sizes that are not multiples of 8
/// or 16, so partial blocks and MCUs and odd chroma sizes are covered.
fn photos() -> Vec<(String, Frame)> {
    common::photo_crops(|i| (203 - 10 * i, 157 + 7 * i))
}

/// Interleaved RGB bytes of a frame (alpha dropped: the codec has none).
fn rgb(frame: &Frame) -> Vec<u8> {
    frame
        .pixels()
        .iter()
        .flat_map(|p| p.to_le_bytes()[..3].to_vec())
        .collect()
}

unsafe extern "C" {
    /// libc's: `jpeg_mem_dest` hands back a buffer from `malloc`.
    fn free(ptr: *mut c_void);
}

/// libjpeg's errors as panics naming the message code (its default handler
/// would exit the test process).
unsafe extern "C-unwind" fn error_exit(cinfo: &mut jpeg::jpeg_common_struct) {
    // SAFETY: libjpeg calls this with the error manager it was given.
    let code = unsafe { (*cinfo.err).msg_code };
    panic!("libjpeg error, message code {code}");
}

/// The codec's compress-then-decompress of interleaved pixels.
/// `gray` compresses one channel as a single-component JPEG.
fn codec_round_trip(
    pixels: &[u8],
    size: Size,
    quality: u8,
    subsampling: u8,
    gray: bool,
) -> Vec<u8> {
    let (w, h) = (size.width as usize, size.height as usize);
    let channels = if gray { 1 } else { 3 };
    assert_eq!(pixels.len(), w * h * channels);
    let (space, samp) = if gray {
        (jpeg::J_COLOR_SPACE::JCS_GRAYSCALE, (1, 1))
    } else {
        (
            jpeg::J_COLOR_SPACE::JCS_RGB,
            [(1, 1), (2, 1), (2, 2)][usize::from(subsampling)],
        )
    };
    // SAFETY: the libjpeg API used as its manual says: structs zeroed then
    // created, every row pointer within `pixels` or `out`, the buffer from
    // jpeg_mem_dest freed once copied.
    unsafe {
        let mut err: jpeg::jpeg_error_mgr = std::mem::zeroed();
        jpeg::jpeg_std_error(&mut err);
        err.error_exit = Some(error_exit);

        let mut c: jpeg::jpeg_compress_struct = std::mem::zeroed();
        c.common.err = &mut err;
        jpeg::jpeg_CreateCompress(&mut c, jpeg::JPEG_LIB_VERSION, size_of_val(&c));
        let mut buf: *mut u8 = std::ptr::null_mut();
        let mut len: c_ulong = 0;
        jpeg::jpeg_mem_dest(&mut c, &mut buf, &mut len);
        c.image_width = size.width;
        c.image_height = size.height;
        c.input_components = channels as c_int;
        c.in_color_space = space;
        jpeg::jpeg_c_set_int_param(
            &mut c,
            jpeg::J_INT_PARAM::JINT_COMPRESS_PROFILE,
            jpeg::JCP_FASTEST as c_int,
        );
        jpeg::jpeg_set_defaults(&mut c);
        jpeg::jpeg_set_quality(&mut c, c_int::from(quality), 1);
        c.dct_method = jpeg::J_DCT_METHOD::JDCT_ISLOW;
        let luma = &mut *c.comp_info;
        (luma.h_samp_factor, luma.v_samp_factor) = samp;
        jpeg::jpeg_start_compress(&mut c, 1);
        while (c.next_scanline as usize) < h {
            let row = pixels[c.next_scanline as usize * w * channels..].as_ptr();
            jpeg::jpeg_write_scanlines(&mut c, &row, 1);
        }
        jpeg::jpeg_finish_compress(&mut c);
        jpeg::jpeg_destroy_compress(&mut c);
        let file = std::slice::from_raw_parts(buf, len as usize).to_vec();
        free(buf.cast());

        let mut d: jpeg::jpeg_decompress_struct = std::mem::zeroed();
        d.common.err = &mut err;
        jpeg::jpeg_CreateDecompress(&mut d, jpeg::JPEG_LIB_VERSION, size_of_val(&d));
        jpeg::jpeg_mem_src(&mut d, file.as_ptr(), file.len() as c_ulong);
        jpeg::jpeg_read_header(&mut d, 1);
        d.out_color_space = space;
        jpeg::jpeg_start_decompress(&mut d);
        assert_eq!((d.output_width, d.output_height), (size.width, size.height));
        assert_eq!(d.output_components as usize, channels);
        let mut out = vec![0u8; w * h * channels];
        while (d.output_scanline as usize) < h {
            let mut row = out[d.output_scanline as usize * w * channels..].as_mut_ptr();
            jpeg::jpeg_read_scanlines(&mut d, &mut row, 1);
        }
        jpeg::jpeg_finish_decompress(&mut d);
        jpeg::jpeg_destroy_decompress(&mut d);
        out
    }
}

fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let mse = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum::<f64>()
        / a.len() as f64;
    10.0 * (255.0 * 255.0 / mse).log10()
}

fn engines() -> Vec<Engine> {
    std::iter::once(Engine::cpu()).chain(gpu_engine()).collect()
}

fn run(engine: &mut Engine, op: &str, input: &Frame) -> Frame {
    let p = common::plan(&format!("(seed: 9, steps: [(name: \"j\", op: {op})])"));
    engine.run_frame(&p, input, 0).unwrap().remove(0)
}

/// Our output against the codec's: at least the 45 dB, and in fact
/// identical. Names everything needed to reproduce a failure.
fn assert_matches_codec(what: &str, ours: &[u8], codec: &[u8]) {
    let db = psnr(ours, codec);
    assert!(
        db >= 45.0,
        "{what}: PSNR {db:.2} dB against the codec, below 45"
    );
    let differing = ours.iter().zip(codec).filter(|(a, b)| a != b).count();
    assert_eq!(
        differing,
        0,
        "{what}: {differing} of {} channel values differ from the codec (PSNR {db:.2} dB)",
        ours.len()
    );
}

#[test]
fn compression_matches_libjpeg_turbo_at_every_quality_and_subsampling() {
    let photos = photos();
    for mut engine in engines() {
        for (name, frame) in &photos {
            let pixels = rgb(frame);
            for quality in [5, 10, 30, 75, 95] {
                for subsampling in 0..=2 {
                    let op = format!("compression(quality: {quality}, subsampling: {subsampling})");
                    let ours = run(&mut engine, &op, frame);
                    let codec =
                        codec_round_trip(&pixels, frame.size(), quality, subsampling, false);
                    let what = format!("{} {name} {}: {op}", engine.describe(), frame.size());
                    assert_matches_codec(&what, &rgb(&ours), &codec);
                }
            }
        }
    }
}

#[test]
fn alpha_is_kept_and_gray_stays_gray_as_a_one_component_jpeg() {
    let (_, photo) = &photos()[0];
    let size = photo.size();
    let mut gray = Frame::new(size);
    for (g, &p) in gray.pixels_mut().iter_mut().zip(photo.pixels()) {
        let v = p & 0xff;
        *g = (v * 0x01_01_01) | ((v ^ 0x5a) << 24);
    }
    let luma: Vec<u8> = gray.pixels().iter().map(|p| (p & 0xff) as u8).collect();
    let codec = codec_round_trip(&luma, size, 20, 2, true);
    for mut engine in engines() {
        let out = run(&mut engine, "compression(quality: 20)", &gray);
        for (i, (&o, &g)) in out.pixels().iter().zip(gray.pixels()).enumerate() {
            let [r, gr, b, a] = o.to_le_bytes();
            assert!(
                r == gr && gr == b,
                "{}: pixel {i} not gray",
                engine.describe()
            );
            assert_eq!(
                a,
                (g >> 24) as u8,
                "{}: alpha of pixel {i}",
                engine.describe()
            );
        }
        let ours: Vec<u8> = out.pixels().iter().map(|p| (p & 0xff) as u8).collect();
        assert_matches_codec(&format!("{} gray", engine.describe()), &ours, &codec);
    }
}

#[test]
fn multi_compress_is_a_chain_of_codec_round_trips() {
    let (_, photo) = &photos()[1];
    let mut codec = rgb(photo);
    for q in [40, 25, 10] {
        codec = codec_round_trip(&codec, photo.size(), q, 1, false);
    }
    let op = "multi_compress(iterations: 3, quality_start: 40, quality_end: 10, decay: linear, subsampling: 1)";
    for mut engine in engines() {
        let ours = run(&mut engine, op, photo);
        assert_matches_codec(&format!("{} {op}", engine.describe()), &rgb(&ours), &codec);
    }
}

#[test]
fn a_full_frame_artifact_tile_is_a_codec_round_trip_at_4_2_0() {
    let (_, photo) = &photos()[2];
    let codec = codec_round_trip(&rgb(photo), photo.size(), 7, 2, false);
    let op = "compression_artifact(tile_count: 1, quality: 7, tile_size_range: (1.0, 1.0))";
    for mut engine in engines() {
        let ours = run(&mut engine, op, photo);
        assert_matches_codec(&format!("{} {op}", engine.describe()), &rgb(&ours), &codec);
    }
}

#[test]
fn gamma_is_applied_before_compressing() {
    let (_, photo) = &photos()[3];
    let curved: Vec<u8> = rgb(photo)
        .iter()
        .map(|&v| ((f64::from(v) / 255.0).powf(2.2) * 255.0 + 0.5) as u8)
        .collect();
    let codec = codec_round_trip(&curved, photo.size(), 50, 0, false);
    let op = "compression(quality: 50, subsampling: 0, gamma: 2.2)";
    for mut engine in engines() {
        let ours = run(&mut engine, op, photo);
        assert_matches_codec(&format!("{} {op}", engine.describe()), &rgb(&ours), &codec);
    }
}

//! The WGSL sources, compiled into the binary. Each op shader is prefixed
//! with the shared pieces in `shaders/lib/` (WGSL has no includes).

/// Shared pieces every module gets, in this order.
pub const LIB: &[(&str, &str)] = &[
    (
        "lib/pack.wgsl",
        include_str!("../../../shaders/lib/pack.wgsl"),
    ),
    (
        "lib/rng.wgsl",
        include_str!("../../../shaders/lib/rng.wgsl"),
    ),
];

/// Every op shader, by the name passes use (`shaders/<name>.wgsl`, or the
/// files of `shaders/<name>/` joined in a fixed order).
pub const SHADERS: &[(&str, &str)] = &[
    (
        "blur_gaussian",
        include_str!("../../../shaders/blur_gaussian.wgsl"),
    ),
    (
        "compression",
        // The JPEG stages, each beside its CPU twin in src/ops/compression/,
        // then the bindings and entry points that run them (a WGSL module's
        // declarations may come in any order).
        concat!(
            include_str!("../../../shaders/compression/color.wgsl"),
            include_str!("../../../shaders/compression/sampling.wgsl"),
            include_str!("../../../shaders/compression/dct.wgsl"),
            include_str!("../../../shaders/compression/quant.wgsl"),
            include_str!("../../../shaders/compression/kernels.wgsl"),
        ),
    ),
    ("resize", include_str!("../../../shaders/resize.wgsl")),
    (
        "saturation",
        include_str!("../../../shaders/saturation.wgsl"),
    ),
    ("band_swap", include_str!("../../../shaders/band_swap.wgsl")),
    (
        "salt_pepper",
        include_str!("../../../shaders/salt_pepper.wgsl"),
    ),
    (
        "buffer_corruption",
        include_str!("../../../shaders/buffer_corruption.wgsl"),
    ),
    ("corduroy", include_str!("../../../shaders/corduroy.wgsl")),
    ("slc_off", include_str!("../../../shaders/slc_off.wgsl")),
    (
        "bayer_filter",
        include_str!("../../../shaders/bayer_filter.wgsl"),
    ),
    (
        "chromatic_aberration",
        include_str!("../../../shaders/chromatic_aberration.wgsl"),
    ),
    (
        "gray_frame",
        include_str!("../../../shaders/gray_frame.wgsl"),
    ),
    ("noise", include_str!("../../../shaders/noise.wgsl")),
    (
        "motion_blur",
        include_str!("../../../shaders/motion_blur.wgsl"),
    ),
    (
        "blur_circular",
        include_str!("../../../shaders/blur_circular.wgsl"),
    ),
];

/// The full module source for a shader name: the library, then the shader.
pub fn module_source(name: &str) -> Option<String> {
    let (_, body) = SHADERS.iter().find(|(n, _)| *n == name)?;
    let mut src: String = LIB.iter().map(|(_, s)| *s).collect::<Vec<_>>().join("\n");
    src.push('\n');
    src.push_str(body);
    Some(src)
}

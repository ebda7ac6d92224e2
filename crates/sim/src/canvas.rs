//! Backend-generic drawing: a [`Chart`] is written once against a plotters `DrawingArea<DB, Shift>` and
//! rendered as SVG or PNG, chosen by the output file's extension.
//!
//! Closures generic over the backend cannot be written in Rust, so a chart is a type implementing [`Chart`]:
//!
//! ```
//! use plotters::coord::Shift;
//! use plotters::prelude::*;
//! use prescale_sim::canvas::{Chart, Format, render_bytes};
//!
//! struct Diagonal;
//! impl Chart for Diagonal {
//!     fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
//!         let mut chart = ChartBuilder::on(area)
//!             .caption("diagonal", ("sans-serif", 16))
//!             .build_cartesian_2d(0.0..1.0, 0.0..1.0)
//!             .map_err(|e| e.to_string())?;
//!         chart
//!             .draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], &BLUE))
//!             .map_err(|e| e.to_string())?;
//!         Ok(())
//!     }
//! }
//! let png = render_bytes(&Diagonal, Format::Png, (320, 200)).unwrap();
//! assert!(png.starts_with(b"\x89PNG"));
//! ```
//!
//! Text uses the family `"sans-serif"`, which is the vendored DejaVu Sans (`assets/DejaVuSans.ttf`,
//! licence in `assets/LICENSE-DejaVu.txt`) in every backend: PNG text is rasterised from it, and SVG text is
//! laid out with its metrics (the viewer draws it with its own sans-serif font). No system fonts are read
//! and the PNG encoder writes no time or text chunks, so the same chart gives byte-identical files whatever
//! fonts the machine has (`tests/plot.rs` checks this for both formats).

use std::path::Path;
use std::sync::OnceLock;

use plotters::backend::RGBPixel;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use crate::{Error, Result};

/// DejaVu Sans 2.37, the only font the charts use.
static DEJAVU_SANS: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// Largest accepted width or height, in pixels (a PNG of that size is 16384 × 16384 × 3 bytes = 768 MiB
/// before compression; larger sizes are a mistake).
pub const MAX_SIDE: u32 = 16384;

/// Something drawable on any plotters backend.
pub trait Chart {
    /// Draw into `area`, which [`render`] / [`render_bytes`] have already filled white; they also present
    /// the result. Errors are messages (plotters errors are backend-specific types).
    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> std::result::Result<(), String>;
}

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// An SVG document; the size is in user units.
    Svg,
    /// An 8-bit RGB PNG image; the size is in pixels.
    Png,
}

impl Format {
    /// The format named by `path`'s extension: `.svg` or `.png`, in any letter case.
    pub fn of_path(path: &Path) -> Result<Format> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext.eq_ignore_ascii_case("svg") {
            Ok(Format::Svg)
        } else if ext.eq_ignore_ascii_case("png") {
            Ok(Format::Png)
        } else {
            Err(Error::Plot {
                message: format!(
                    "{}: unknown format; the file name must end in .svg or .png",
                    path.display()
                ),
            })
        }
    }

    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Svg => "svg",
            Format::Png => "png",
        }
    }
}

/// Draw `chart` into the file `path`, in the format its extension names (see [`Format::of_path`]), at
/// `size` = (width, height).
pub fn render(path: &Path, size: (u32, u32), chart: &impl Chart) -> Result<()> {
    let format = Format::of_path(path)?;
    let bytes = render_bytes(chart, format, size)?;
    std::fs::write(path, bytes).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Draw `chart` in `format` at `size` = (width, height) and return the file's bytes.
pub fn render_bytes(chart: &impl Chart, format: Format, size: (u32, u32)) -> Result<Vec<u8>> {
    let (w, h) = size;
    if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE {
        return Err(Error::Plot {
            message: format!("size {w}×{h}: width and height must be between 1 and {MAX_SIDE}"),
        });
    }
    register_fonts()?;
    let message = |message: String| Error::Plot { message };
    match format {
        Format::Svg => {
            let mut out = String::new();
            {
                let area = SVGBackend::with_string(&mut out, size).into_drawing_area();
                draw_on(&area, chart).map_err(message)?;
            }
            Ok(out.into_bytes())
        }
        Format::Png => {
            // Bounded by MAX_SIDE, so this cannot overflow.
            let mut pixels = vec![0u8; w as usize * h as usize * 3];
            {
                let backend = BitMapBackend::<RGBPixel>::with_buffer_and_format(&mut pixels, size)
                    .map_err(|e| message(e.to_string()))?;
                draw_on(&backend.into_drawing_area(), chart).map_err(message)?;
            }
            encode_png(&pixels, size).map_err(|e| message(format!("cannot encode the PNG: {e}")))
        }
    }
}

fn draw_on<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &impl Chart,
) -> std::result::Result<(), String> {
    area.fill(&WHITE).map_err(|e| e.to_string())?;
    chart.draw(area)?;
    area.present().map_err(|e| e.to_string())
}

/// RGB8 pixels as a PNG with fixed settings (no time or text chunks), so equal pixels give equal bytes.
fn encode_png(
    pixels: &[u8],
    (w, h): (u32, u32),
) -> std::result::Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Balanced);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(pixels)?;
    writer.finish()?;
    Ok(out)
}

/// Register the vendored font as `"sans-serif"` (once per process; plotters keeps a global font table).
fn register_fonts() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| register_font("sans-serif", FontStyle::Normal, DEJAVU_SANS).is_ok());
    if ok {
        Ok(())
    } else {
        Err(Error::Plot {
            message: "the vendored font assets/DejaVuSans.ttf cannot be parsed".to_string(),
        })
    }
}

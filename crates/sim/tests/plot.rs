//! `--plot`: the run's chart as SVG and PNG, byte-identical across renders, with readable PNG text; and the
//! backend-generic `canvas` entry the charts go through.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use prescale_sim::canvas::{self, Chart, Format, MAX_SIDE};
use prescale_sim::plot::{self, SIZE};
use prescale_sim::{Options, Run, Scenario, simulate};

fn seed_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/seed")
}

/// The seed example, run with its timeline.
fn seed() -> (Run, Scenario) {
    let sc = Scenario::load(&seed_dir().join("scenario.yaml")).unwrap();
    let run = simulate(&sc, Options { timeline: true }).unwrap();
    (run, sc)
}

/// The seed example starting from 3 replicas instead of 1.
fn seed_from_three() -> (Run, Scenario) {
    let text = std::fs::read_to_string(seed_dir().join("scenario.yaml")).unwrap();
    assert_eq!(text.matches("initialReplicas: 1\n").count(), 1);
    let text = text.replace("initialReplicas: 1\n", "initialReplicas: 3\n");
    let sc = Scenario::parse(&text, "three.yaml", &seed_dir()).unwrap();
    let run = simulate(&sc, Options { timeline: true }).unwrap();
    (run, sc)
}

/// A decoded RGB8 image.
struct Image {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

impl Image {
    fn decode(bytes: &[u8]) -> Image {
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .unwrap();
        let mut rgb = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut rgb).unwrap();
        assert_eq!(
            (info.color_type, info.bit_depth),
            (png::ColorType::Rgb, png::BitDepth::Eight)
        );
        rgb.truncate(info.buffer_size());
        Image {
            width: info.width,
            height: info.height,
            rgb,
        }
    }

    fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        let i = (y as usize * self.width as usize + x as usize) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// Pixels in `xs` × `ys` that are dark grey to black (text and axes are drawn in black; the series in
    /// colours, the background in white).
    fn dark(&self, xs: std::ops::Range<u32>, ys: std::ops::Range<u32>) -> usize {
        ys.flat_map(|y| xs.clone().map(move |x| (x, y)))
            .filter(|&(x, y)| self.pixel(x, y).iter().all(|&c| c < 110))
            .count()
    }

    /// Pixels in `xs` × `ys` that are neither white nor black nor grey: anti-aliased text edges are grey,
    /// so this counts coloured series pixels.
    fn coloured(&self, xs: std::ops::Range<u32>, ys: std::ops::Range<u32>) -> usize {
        ys.flat_map(|y| xs.clone().map(move |x| (x, y)))
            .filter(|&(x, y)| {
                let [r, g, b] = self.pixel(x, y);
                r.max(g).max(b) - r.min(g).min(b) > 40
            })
            .count()
    }
}

#[test]
fn svg_and_png_are_byte_identical_across_renders() {
    let (run, sc) = seed();
    for format in [Format::Svg, Format::Png] {
        let first = plot::render(&run, &sc, format).unwrap();
        let again = plot::render(&run, &sc, format).unwrap();
        assert!(first.len() > 1000, "{format:?}: {} bytes", first.len());
        assert!(first == again, "{format:?}: two renders of one run differ");
        // Also from a fresh simulation of the same scenario.
        let (run2, sc2) = seed();
        assert!(
            first == plot::render(&run2, &sc2, format).unwrap(),
            "{format:?}: rerun differs"
        );
    }
    // The bytes do depend on the run: another scenario draws another picture.
    let (other, other_sc) = seed_from_three();
    for format in [Format::Svg, Format::Png] {
        assert!(
            plot::render(&run, &sc, format).unwrap()
                != plot::render(&other, &other_sc, format).unwrap(),
            "{format:?}"
        );
    }
}

#[test]
fn svg_is_the_text_document_of_the_run() {
    let (run, sc) = seed();
    let svg = plot::svg(&run, &sc).unwrap();
    assert_eq!(
        svg.as_bytes(),
        plot::render(&run, &sc, Format::Svg).unwrap()
    );
    assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(200)]);
    assert!(
        svg.contains(r#"width="1200" height="760""#),
        "{}",
        &svg[..200]
    );
    for label in [
        "prescale simulate: ho11y/ho11y-hpa",
        "trigger values",
        "spec.replicas",
        "minutes",
    ] {
        assert!(svg.contains(label), "missing {label:?}");
    }
}

#[test]
fn png_has_the_size_and_readable_text() {
    let (run, sc) = seed();
    let bytes = plot::render(&run, &sc, Format::Png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    let img = Image::decode(&bytes);
    assert_eq!((img.width, img.height), SIZE);
    assert_eq!(img.pixel(0, 0), [255, 255, 255], "white background");

    // The title strip ("prescale simulate: ho11y/ho11y-hpa", 20 px, centred): black glyphs in the middle,
    // nothing at the far left and right.
    let title = img.dark(400..800, 0..30);
    assert!(title > 300, "title: {title} dark pixels");
    assert_eq!(img.dark(0..300, 0..30), 0, "left of the title");
    assert_eq!(img.dark(900..1200, 0..30), 0, "right of the title");
    // Antialiased glyph edges: grey levels between black and white.
    let greys = (400..800)
        .flat_map(|x| (0..30).map(move |y| (x, y)))
        .filter(|&(x, y)| {
            let [r, g, b] = img.pixel(x, y);
            r == g && g == b && (60..200).contains(&r)
        })
        .count();
    assert!(greys > 50, "title edges: {greys} grey pixels");

    // The bottom panel's x-axis description "minutes", centred under the plot, and the y tick labels left
    // of both panels.
    let x_desc = img.dark(500..700, 730..760);
    assert!(x_desc > 40, "x description: {x_desc} dark pixels");
    let y_ticks = img.dark(12..78, 60..340);
    assert!(y_ticks > 100, "top y tick labels: {y_ticks} dark pixels");

    // The series are drawn in colour inside the panels, not in the title strip.
    assert!(img.coloured(90..1190, 60..340) > 500, "top panel series");
    assert!(
        img.coloured(90..1190, 400..720) > 500,
        "bottom panel series"
    );
    assert_eq!(img.coloured(0..1200, 0..30), 0, "title strip");
}

/// A test chart: one black diagonal, a caption, and optionally an error.
struct Diagonal {
    fail: bool,
}

impl Chart for Diagonal {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let mut chart = ChartBuilder::on(area)
            .caption("diagonal", ("sans-serif", 16))
            .build_cartesian_2d(0.0..1.0, 0.0..1.0)
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], &BLACK))
            .map_err(|e| e.to_string())?;
        if self.fail {
            return Err("the chart gave up".to_string());
        }
        Ok(())
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("prescale-sim-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn render_picks_the_format_by_extension() {
    let dir = temp_dir("canvas");
    let chart = Diagonal { fail: false };
    for (name, magic) in [
        ("a.svg", &b"<svg"[..]),
        ("b.SVG", b"<svg"),
        ("c.png", b"\x89PNG"),
        ("d.Png", b"\x89PNG"),
    ] {
        let path = dir.join(name);
        canvas::render(&path, (300, 200), &chart).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.starts_with(magic), "{name}");
        let format = Format::of_path(&path).unwrap();
        assert_eq!(
            bytes,
            canvas::render_bytes(&chart, format, (300, 200)).unwrap(),
            "{name}"
        );
        assert_eq!(format.extension(), name[2..].to_ascii_lowercase());
    }
    let img = Image::decode(&std::fs::read(dir.join("c.png")).unwrap());
    assert_eq!((img.width, img.height), (300, 200));
    // The diagonal runs from the bottom left to the top right.
    assert!(img.dark(0..150, 100..200) > 50);
    assert!(img.dark(150..300, 30..100) > 50);

    for name in ["run.gif", "run", "run.svg.txt", "png", "run.jpeg"] {
        let path = dir.join(name);
        let err = canvas::render(&path, (300, 200), &chart)
            .unwrap_err()
            .to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains(".svg") && err.contains(".png"), "{err}");
        assert!(!path.exists(), "{name} was written");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn render_reports_chart_size_and_write_errors() {
    let chart = Diagonal { fail: true };
    for format in [Format::Svg, Format::Png] {
        let err = canvas::render_bytes(&chart, format, (300, 200))
            .unwrap_err()
            .to_string();
        assert!(err.contains("the chart gave up"), "{err}");
    }
    let ok = Diagonal { fail: false };
    for size in [(0, 200), (300, 0), (MAX_SIDE + 1, 10), (10, u32::MAX)] {
        let err = canvas::render_bytes(&ok, Format::Png, size)
            .unwrap_err()
            .to_string();
        assert!(err.contains(&format!("{}×{}", size.0, size.1)), "{err}");
    }
    let missing = Path::new("/nonexistent-prescale-dir/run.png");
    let err = canvas::render(missing, (300, 200), &ok)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cannot write /nonexistent-prescale-dir/run.png"),
        "{err}"
    );
}

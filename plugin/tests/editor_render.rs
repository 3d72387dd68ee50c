//! The real editor, rendered under a virtual X server (Xvfb, Mesa's
//! software OpenGL) with the demonstration arrangement playing through it,
//! at its minimum size and at a large size, and at the minimum size on a
//! screen with scale factor 2: each picture must show a drawn window, not
//! a blank or single-colour one. Needs the Debian
//! packages `xvfb xauth imagemagick` (tests/run-all.sh installs them).

use std::path::Path;
use std::process::Command;

/// The editor's minimum size (`editor::MIN_SIZE`) and a large size,
/// physical pixels at scale 1.
const SIZES: [(u32, u32); 2] = [(780, 520), (1600, 1000)];

/// ImageMagick's figure `format` of the picture at `path`.
fn measure(path: &Path, format: &str) -> f64 {
    let out = Command::new("convert")
        .arg(path)
        .args(["-format", format, "info:"])
        .output()
        .expect("ImageMagick's convert runs");
    assert!(out.status.success(), "convert failed: {out:?}");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("convert printed {out:?}"))
}

/// Runs the screenshot tool under Xvfb for `shots` (path, width, height).
fn render(shots: &[(std::path::PathBuf, u32, u32)], scale: Option<&str>) {
    let mut command = Command::new("xvfb-run");
    command
        .args(["-a", "-s", "-screen 0 1920x1200x24"])
        .arg(env!("CARGO_BIN_EXE_stem-master-editor-shot"));
    if let Some(scale) = scale {
        command.args(["--scale", scale]);
    }
    let status = command
        .args(
            shots
                .iter()
                .map(|(p, w, h)| format!("{}={w}x{h}", p.display())),
        )
        .status()
        .expect("xvfb-run runs");
    assert!(status.success(), "the screenshot tool failed: {status}");
}

#[test]
fn the_editor_renders_at_its_minimum_and_a_large_size() {
    assert_eq!(
        (SIZES[0].0 as f32, SIZES[0].1 as f32),
        stem_master::editor::MIN_SIZE
    );
    for tool in ["xvfb-run", "convert", "import"] {
        assert!(
            Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .status()
                .is_ok_and(|s| s.success()),
            "{tool} is missing: install the Debian packages xvfb xauth imagemagick"
        );
    }
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("editor_render");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut shots: Vec<_> = SIZES
        .iter()
        .map(|&(w, h)| (dir.join(format!("editor-{w}x{h}.png")), w, h))
        .collect();
    render(&shots, None);
    // Scale factor 2 (a HiDPI screen): the minimum logical size is twice
    // as many physical pixels.
    let hidpi = (
        dir.join("editor-scale2.png"),
        2 * SIZES[0].0,
        2 * SIZES[0].1,
    );
    render(std::slice::from_ref(&hidpi), Some("2"));
    shots.push(hidpi);
    for (path, w, h) in &shots {
        let width = measure(path, "%w");
        let height = measure(path, "%h");
        assert_eq!(
            (width, height),
            (f64::from(*w), f64::from(*h)),
            "{}",
            path.display()
        );
        // A blank window has one or two colours; text, meters, the spectrum
        // and the goniometer give hundreds to thousands (644 at the minimum size, 2315 at 1120×780). 200 is far from both.
        let colours = measure(path, "%k");
        assert!(
            colours > 200.0,
            "{}: only {colours} colours",
            path.display()
        );
        // And the drawing spreads over the window: the standard deviation
        // of the grey levels (0..1) of a blank window is 0; the editor's
        // dark panels with light text and meters give about 0.15.
        let spread = measure(path, "%[fx:standard_deviation]");
        assert!(
            spread > 0.05,
            "{}: grey-level spread {spread}",
            path.display()
        );
        // The right-hand third (the controls panel) is drawn too.
        let out = Command::new("convert")
            .arg(path)
            .args([
                "-crop",
                &format!("{}x{}+{}+0", w / 3, h, w - w / 3),
                "+repage",
                "-format",
                "%k",
                "info:",
            ])
            .output()
            .unwrap();
        let right: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        assert!(
            right > 100.0,
            "{}: the controls panel has {right} colours",
            path.display()
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

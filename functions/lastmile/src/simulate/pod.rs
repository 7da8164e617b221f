//! Proof-of-delivery files: a signature drawn as SVG strokes and a small doorstep "photo" as a PNG encoded here
//! (a stored-colour image, zlib-compressed rows, CRC-checked chunks; PNG specification, ISO/IEC 15948).
//! Both are drawn from the shipment's random stream, so the same story gives the same bytes.

use std::io::Write;

use rand::Rng;

/// A file a carrier sends or links with a delivery, named as the event names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodFileOut {
    pub name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// A signature: three to five pen strokes of cubic curves across a 240 × 80 box.
pub fn signature_svg(name: &str, rng: &mut impl Rng) -> PodFileOut {
    let mut paths = String::new();
    let strokes = rng.random_range(3..=5);
    let mut x = rng.random_range(8..30);
    for _ in 0..strokes {
        let y = rng.random_range(30..60);
        let mut d = format!("M{x} {y}");
        for _ in 0..rng.random_range(2..=4) {
            let (c1x, c1y) = (x + rng.random_range(5..20), rng.random_range(5..75));
            let (c2x, c2y) = (x + rng.random_range(15..35), rng.random_range(5..75));
            x = (x + rng.random_range(20..45)).min(232);
            d.push_str(&format!(" C{c1x} {c1y} {c2x} {c2y} {x} {}", rng.random_range(25..65)));
        }
        paths.push_str(&format!("<path d=\"{d}\"/>"));
        x = (x + rng.random_range(4..12)).min(220);
    }
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"240\" height=\"80\" viewBox=\"0 0 240 80\">\
<g fill=\"none\" stroke=\"#1a1a6e\" stroke-width=\"2\" stroke-linecap=\"round\">{paths}</g></svg>\n"
    );
    PodFileOut { name: name.to_owned(), content_type: "image/svg+xml", bytes: svg.into_bytes() }
}

/// A 32 × 24 picture of a door: a wall colour, a door, its handle, and some grain, as an 8-bit RGB PNG.
pub fn photo_png(name: &str, rng: &mut impl Rng) -> PodFileOut {
    const W: usize = 32;
    const H: usize = 24;
    let wall = [rng.random_range(150..230u8), rng.random_range(140..220u8), rng.random_range(120..200u8)];
    let door = [rng.random_range(40..140u8), rng.random_range(30..110u8), rng.random_range(20..90u8)];
    let left = rng.random_range(8..14);
    let mut raw = Vec::with_capacity(H * (1 + 3 * W));
    for y in 0..H {
        raw.push(0); // filter type None
        for x in 0..W {
            let in_door = (left..left + 12).contains(&x) && y >= 4;
            let handle = in_door && x == left + 9 && y == 14;
            let base = if handle {
                [220, 200, 60]
            } else if in_door {
                door
            } else {
                wall
            };
            let grain: u8 = rng.random_range(0..12);
            raw.extend(base.iter().map(|c| c.saturating_sub(grain)));
        }
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend((W as u32).to_be_bytes());
    header.extend((H as u32).to_be_bytes());
    header.extend([8, 2, 0, 0, 0]); // depth 8, RGB, deflate, adaptive filtering, no interlace
    chunk(&mut png, b"IHDR", &header);
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(&raw);
    chunk(&mut png, b"IDAT", &encoder.finish().unwrap_or_default());
    chunk(&mut png, b"IEND", &[]);
    PodFileOut { name: name.to_owned(), content_type: "image/png", bytes: png }
}

fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend((data.len() as u32).to_be_bytes());
    png.extend(kind);
    png.extend(data);
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    png.extend(crc.sum().to_be_bytes());
}

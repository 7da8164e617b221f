//! The return label as ZPL for a 4×6 in label at 203 dpi (812 × 1218 dots): the return address, the RMA number
//! in words and as a Code 128 barcode (`^BC`). A carrier's own label is bought through the label port; this is
//! the label of a return that needs none, or the slip packed with it.

use super::destination::ReturnDestination;

/// 4 in × 203 dpi.
const WIDTH_DOTS: u32 = 812;
/// 6 in × 203 dpi.
const LENGTH_DOTS: u32 = 1218;

/// ZPL text of the label.
pub fn zpl(rma: &str, from: &[String], to: &ReturnDestination) -> String {
    let mut zpl = format!("^XA\n^CI28\n^PW{WIDTH_DOTS}\n^LL{LENGTH_DOTS}\n^LH0,0\n");
    zpl.push_str(&text(40, 40, 28, "FROM:"));
    let mut y = 80;
    for line in from {
        zpl.push_str(&text(40, y, 28, line));
        y += 34;
    }
    zpl.push_str(&format!("^FO0,{}^GB{WIDTH_DOTS},4,4^FS\n", y + 10));
    y += 40;
    zpl.push_str(&text(40, y, 34, "RETURN TO:"));
    y += 50;
    for line in &to.address {
        zpl.push_str(&text(60, y, 44, line));
        y += 54;
    }
    zpl.push_str(&format!("^FO0,{}^GB{WIDTH_DOTS},4,4^FS\n", y + 10));
    zpl.push_str(&text(40, 820, 40, &format!("RMA {rma}")));
    // Code 128, 180 dots high, the human-readable line below it; `>:` starts it in subset B.
    zpl.push_str(&format!("^FO60,880^BY3^BCN,180,Y,N,N^FH^FD>:{}^FS\n", escape(rma)));
    zpl.push_str("^XZ\n");
    zpl
}

fn text(x: u32, y: u32, height: u32, value: &str) -> String {
    format!("^FO{x},{y}^A0N,{height},{height}^FH^FD{}^FS\n", escape(value))
}

/// Field data under `^FH`: `_`, `^` and `~` written as hex escapes, so that a buyer's name cannot end the field
/// or start a command.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '_' => out.push_str("_5F"),
            '^' => out.push_str("_5E"),
            '~' => out.push_str("_7E"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::returns::destination::Destinations;

    #[test]
    fn the_label_has_the_address_the_rma_and_a_code_128_barcode() {
        let hub = &Destinations::builtin().unwrap().destinations[0];
        let from = ["Ada ^XZ Lovelace".to_owned(), "12 Main St_2".to_owned(), "New York NY 10001".to_owned()];
        let zpl = zpl("RMA-1A2B3C4D5E", &from, hub);
        assert!(zpl.starts_with("^XA\n") && zpl.ends_with("^XZ\n"));
        assert!(zpl.contains("^PW812\n^LL1218"), "4 × 6 in at 203 dpi");
        assert!(zpl.contains("^BCN,180,Y,N,N^FH^FD>:RMA-1A2B3C4D5E^FS"));
        assert!(zpl.contains("^FDRMA RMA-1A2B3C4D5E^FS"));
        for line in &hub.address {
            assert!(zpl.contains(&format!("^FD{line}^FS")), "{line}");
        }
        // The buyer's text cannot close the label early.
        assert!(zpl.contains("^FDAda _5EXZ Lovelace^FS") && zpl.contains("12 Main St_5F2"));
        assert_eq!(zpl.matches("^XZ").count(), 1);
    }
}

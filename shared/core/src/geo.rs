//! Distances between points on the Earth.

/// Great-circle distance in km (haversine on a 6,371 km sphere): exact to a few tenths of a percent, enough
/// for plausibility checks and distance-banded zones. Written here rather than taken from `geo` so the edge
/// worker's bundle does not carry that crate for one formula.
pub fn distance_km((lat1, lon1): (f64, f64), (lat2, lon2): (f64, f64)) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0 * a.sqrt().asin()
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_distances() {
        // Washington DC (38.8946, -77.0355) to New York (40.749, -73.9865): about 328 km.
        let d = super::distance_km((38.8946, -77.0355), (40.749, -73.9865));
        assert!((320.0..335.0).contains(&d), "{d}");
        assert_eq!(super::distance_km((10.0, 20.0), (10.0, 20.0)), 0.0);
    }
}

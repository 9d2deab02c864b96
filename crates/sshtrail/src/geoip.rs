//! GeoIP lookups of source addresses (being written).

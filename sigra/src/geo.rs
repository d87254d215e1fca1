//! Where a client address is, for session lists and new-sign-in mail: a trait, and a MaxMind
//! (GeoIP2/GeoLite2 City) database reader behind `SIGRA_GEOIP_DATABASE`. Off by default.

use std::net::IpAddr;
use std::path::Path;

use maxminddb::geoip2;

use crate::error::{Error, Result};

/// A city and country, as far as known.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Location {
    /// The city's English name.
    pub city: Option<String>,
    /// The ISO 3166-1 alpha-2 country code.
    pub country_code: Option<String>,
}

impl Location {
    /// "Lyon, FR", "FR", or `None` when nothing is known.
    pub fn label(&self) -> Option<String> {
        match (&self.city, &self.country_code) {
            (Some(city), Some(country)) => Some(format!("{city}, {country}")),
            (None, Some(country)) => Some(country.clone()),
            (Some(city), None) => Some(city.clone()),
            (None, None) => None,
        }
    }
}

/// Looks addresses up.
pub trait GeoIp: Send + Sync + 'static {
    /// Where `ip` is, if known.
    fn locate(&self, ip: IpAddr) -> Option<Location>;
}

/// A MaxMind City database, read into memory at start-up.
pub struct MaxMindGeoIp {
    reader: maxminddb::Reader<Vec<u8>>,
}

impl MaxMindGeoIp {
    /// Opens the database at `path`.
    ///
    /// # Errors
    /// The file is missing or not a MaxMind database.
    pub fn open(path: &Path) -> Result<Self> {
        let reader =
            maxminddb::Reader::open_readfile(path).map_err(|e| Error::Internal(Box::new(e)))?;
        Ok(Self { reader })
    }
}

impl GeoIp for MaxMindGeoIp {
    fn locate(&self, ip: IpAddr) -> Option<Location> {
        let found = self.reader.lookup(ip).ok()?;
        let city: geoip2::City<'_> = found.decode().ok().flatten()?;
        let location = Location {
            city: city.city.names.english.map(str::to_owned),
            country_code: city.country.iso_code.map(str::to_owned),
        };
        (location != Location::default()).then_some(location)
    }
}

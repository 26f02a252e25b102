//! Handshakes under way, kept apart from the active sessions: a bounded
//! tier of handshakes, each with its source address, its start and its
//! place in line, and the choice of which one gives way when the tier is
//! full.
//!
//! The session table keeps two of these (issue 16, point 4). Open Session
//! needs no reply, so its source can be spoofed, and a flood of them from
//! many addresses costs the flooder nothing. The first tier, *opening*,
//! holds handshakes that only answered Open Session. It is large, since
//! an entry is a few dozen bytes. The second, *proving*, holds those whose
//! console sent a RAKP 1 naming the BMC's random session ID, so it
//! receives at its address. Nothing in the first tier ever pushes out one
//! in the second, and no handshake ever takes an active session's place.
//!
//! When a tier is full, the handshake that gives way is the oldest of the
//! busiest address in the busiest source prefix (/24 for IPv4, /64 for
//! IPv6); between equals, the one holding the oldest handshake. A flood
//! thus churns its own entries: a console with one handshake loses it only
//! when no address (and no prefix) holds more than it does, and then only
//! after every older one.

use std::{
    collections::{BTreeSet, HashMap},
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
    time::Instant,
};

/// A handshake in a tier: its state, when it started, and where from.
#[derive(Debug)]
pub(crate) struct Handshake<T> {
    pub state: T,
    pub started: Instant,
    pub from: IpAddr,
}

#[derive(Debug)]
struct Entry<T> {
    handshake: Handshake<T>,
    /// Place in line: higher is newer.
    order: u64,
}

/// A bounded set of handshakes by session ID.
#[derive(Debug)]
pub(crate) struct Tier<T> {
    capacity: usize,
    per_address: usize,
    entries: HashMap<u32, Entry<T>>,
    /// Each address's handshakes, by place in line.
    by_address: HashMap<IpAddr, BTreeSet<(u64, u32)>>,
    /// Every handshake by start, for expiry.
    by_start: BTreeSet<(Instant, u32)>,
    next_order: u64,
}

impl<T> Tier<T> {
    /// A tier of at most `capacity` handshakes, `per_address` of them from
    /// one address.
    pub fn new(capacity: usize, per_address: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            per_address: per_address.max(1),
            entries: HashMap::new(),
            by_address: HashMap::new(),
            by_start: BTreeSet::new(),
            next_order: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn contains(&self, id: u32) -> bool {
        self.entries.contains_key(&id)
    }

    /// Adds handshake `id`, first removing (and returning) the one that
    /// gives way if `from` holds its share or the tier is full.
    pub fn insert(&mut self, id: u32, handshake: Handshake<T>) -> Option<(u32, Handshake<T>)> {
        let own = self.by_address.get(&handshake.from);
        let victim = if own.is_some_and(|own| own.len() >= self.per_address) {
            own.and_then(|own| own.first()).map(|(_, id)| *id)
        } else if self.entries.len() >= self.capacity {
            self.victim()
        } else {
            None
        };
        let evicted = victim.and_then(|victim| Some((victim, self.remove(victim)?)));
        self.next_order += 1;
        let order = self.next_order;
        self.by_address
            .entry(handshake.from)
            .or_default()
            .insert((order, id));
        self.by_start.insert((handshake.started, id));
        if let Some(replaced) = self.entries.insert(id, Entry { handshake, order }) {
            // The same ID twice: the caller's bug, but keep the indexes
            // true to the entries.
            self.unindex(id, &replaced);
        }
        evicted
    }

    /// Takes handshake `id` out.
    pub fn remove(&mut self, id: u32) -> Option<Handshake<T>> {
        let entry = self.entries.remove(&id)?;
        self.unindex(id, &entry);
        Some(entry.handshake)
    }

    /// Takes handshake `id` out if `wanted` accepts its state.
    pub fn remove_if(&mut self, id: u32, wanted: impl Fn(&T) -> bool) -> Option<Handshake<T>> {
        if wanted(&self.entries.get(&id)?.handshake.state) {
            self.remove(id)
        } else {
            None
        }
    }

    /// The earliest start of a handshake in the tier.
    pub fn earliest_start(&self) -> Option<Instant> {
        self.by_start.first().map(|(started, _)| *started)
    }

    /// Takes out every handshake that started at or before `cutoff`.
    pub fn remove_started_by(&mut self, cutoff: Instant) -> Vec<(u32, Handshake<T>)> {
        let mut removed = Vec::new();
        while let Some(&(started, id)) = self.by_start.first() {
            if started > cutoff {
                break;
            }
            match self.remove(id) {
                Some(handshake) => removed.push((id, handshake)),
                None => {
                    self.by_start.remove(&(started, id));
                }
            }
        }
        removed
    }

    fn unindex(&mut self, id: u32, entry: &Entry<T>) {
        let from = entry.handshake.from;
        if let Some(own) = self.by_address.get_mut(&from) {
            own.remove(&(entry.order, id));
            if own.is_empty() {
                self.by_address.remove(&from);
            }
        }
        self.by_start.remove(&(entry.handshake.started, id));
    }

    /// The handshake that gives way in a full tier: the oldest of the
    /// busiest address of the busiest prefix, oldest first between equals.
    fn victim(&self) -> Option<u32> {
        // (count, oldest place in line) per prefix.
        let mut prefixes: HashMap<IpAddr, (usize, u64)> = HashMap::new();
        for (address, own) in &self.by_address {
            let oldest = own.first().map_or(u64::MAX, |(order, _)| *order);
            let load = prefixes
                .entry(source_prefix(*address))
                .or_insert((0, u64::MAX));
            load.0 += own.len();
            load.1 = load.1.min(oldest);
        }
        let heaviest = |(count, oldest): (usize, u64)| (count, std::cmp::Reverse(oldest));
        let (prefix, _) = prefixes
            .into_iter()
            .max_by_key(|(_, load)| heaviest(*load))?;
        let (_, own) = self
            .by_address
            .iter()
            .filter(|(address, _)| source_prefix(**address) == prefix)
            .max_by_key(|(_, own)| {
                heaviest((own.len(), own.first().map_or(u64::MAX, |(order, _)| *order)))
            })?;
        own.first().map(|(_, id)| *id)
    }
}

/// The prefix a source address is counted under: /24 for IPv4 (an
/// IPv4-mapped IPv6 address counts as IPv4), /64 for IPv6.
pub(crate) fn source_prefix(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(Ipv4Addr::from(u32::from(v4) & 0xFFFF_FF00)),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => source_prefix(IpAddr::V4(v4)),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(address: &str, started: Instant) -> Handshake<()> {
        Handshake {
            state: (),
            started,
            from: address.parse().unwrap(),
        }
    }

    #[test]
    fn an_address_past_its_share_loses_its_own_oldest() {
        let now = Instant::now();
        let mut tier = Tier::new(100, 2);
        assert!(tier.insert(1, at("192.0.2.1", now)).is_none());
        assert!(tier.insert(2, at("192.0.2.1", now)).is_none());
        assert!(tier.insert(3, at("192.0.2.2", now)).is_none());
        let (evicted, _) = tier.insert(4, at("192.0.2.1", now)).unwrap();
        assert_eq!(evicted, 1);
        assert!(tier.contains(3) && tier.contains(2) && tier.contains(4));
    }

    /// Issue 16, point 4: a flood from more addresses than a console holds
    /// handshakes fills the tier, yet the console keeps its handshake
    /// however many more arrive.
    #[test]
    fn a_many_address_flood_churns_its_own_handshakes() {
        let now = Instant::now();
        let mut tier = Tier::new(64, 32);
        assert!(tier.insert(1, at("127.0.0.1", now)).is_none());
        let mut id = 100;
        for round in 0..50 {
            for host in 2..=40u32 {
                id += 1;
                let address = format!("127.0.0.{host}");
                if let Some((evicted, _)) = tier.insert(id, at(&address, now)) {
                    assert_ne!(
                        evicted, 1,
                        "round {round}: the console's handshake gave way"
                    );
                }
            }
        }
        assert!(tier.contains(1));
        assert_eq!(tier.len(), 64);
    }

    /// With more flooding addresses than the tier has room, every address
    /// holds one and age decides: the console's handshake outlives every
    /// one that was already there when it came.
    #[test]
    fn past_one_each_the_oldest_gives_way() {
        let now = Instant::now();
        let mut tier = Tier::new(64, 32);
        let mut id = 100;
        let mut flood = |tier: &mut Tier<()>, count: u32| -> Vec<u32> {
            let mut evicted = Vec::new();
            for _ in 0..count {
                id += 1;
                let address = format!("10.{}.{}.1", id / 256 % 256, id % 256);
                evicted.extend(tier.insert(id, at(&address, now)).map(|(gone, _)| gone));
            }
            evicted
        };
        flood(&mut tier, 200);
        assert!(tier.insert(1, at("127.0.0.1", now)).is_some());
        assert!(
            !flood(&mut tier, 63).contains(&1),
            "it outlives the 63 there before it"
        );
        assert_eq!(flood(&mut tier, 1), [1], "then it is the oldest");
    }

    /// A flood spread over more prefixes than the tier holds still spares
    /// a console in a prefix of its own.
    #[test]
    fn the_busiest_prefix_gives_way_first() {
        let now = Instant::now();
        let mut tier = Tier::new(16, 32);
        assert!(tier.insert(1, at("198.51.100.7", now)).is_none());
        let mut id = 10;
        for round in 0..20u32 {
            for host in 0..15u32 {
                id += 1;
                let address = format!("203.0.113.{}", (round * 15 + host) % 250);
                if let Some((evicted, _)) = tier.insert(id, at(&address, now)) {
                    assert_ne!(evicted, 1);
                }
            }
        }
        assert!(tier.contains(1));
    }

    /// Between equals, the oldest gives way: a console that arrived last
    /// keeps its handshake while older ones go first.
    #[test]
    fn between_equals_the_oldest_gives_way() {
        let now = Instant::now();
        let mut tier = Tier::new(3, 32);
        tier.insert(1, at("192.0.2.1", now));
        tier.insert(2, at("198.51.100.1", now));
        tier.insert(3, at("203.0.113.1", now));
        let (evicted, _) = tier.insert(4, at("2001:db8::1", now)).unwrap();
        assert_eq!(evicted, 1);
    }

    #[test]
    fn expiry_takes_out_what_started_by_the_cutoff() {
        let now = Instant::now();
        let mut tier = Tier::new(10, 10);
        tier.insert(1, at("192.0.2.1", now));
        tier.insert(2, at("192.0.2.1", now + Duration::from_secs(2)));
        assert_eq!(tier.earliest_start(), Some(now));
        let gone: Vec<u32> = tier
            .remove_started_by(now + Duration::from_secs(1))
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(gone, [1]);
        assert_eq!(tier.earliest_start(), Some(now + Duration::from_secs(2)));
        assert!(tier.remove(2).is_some());
        assert_eq!(tier.len(), 0);
        assert!(tier.by_address.is_empty() && tier.by_start.is_empty());
    }

    #[test]
    fn prefixes_group_by_24_and_64() {
        let p = |s: &str| source_prefix(s.parse().unwrap());
        assert_eq!(p("192.0.2.77"), p("192.0.2.1"));
        assert_ne!(p("192.0.2.77"), p("192.0.3.77"));
        assert_eq!(p("::ffff:192.0.2.9"), p("192.0.2.1"));
        assert_eq!(p("2001:db8:1:2::5"), p("2001:db8:1:2:ffff::1"));
        assert_ne!(p("2001:db8:1:2::5"), p("2001:db8:1:3::5"));
    }
}

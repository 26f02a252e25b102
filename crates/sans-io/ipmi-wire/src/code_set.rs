//! [`code_set!`](crate::code_set), the one form every spec code table in the
//! suite is written in: NetFn and completion codes here, SDR record types and
//! units in ipmi-sdr, boot flags in ipmi-boot, watchdog fields in
//! ipmi-watchdog.

/// Declares a table of IPMI spec codes: one row per code, with its Rust
/// name, its value and the spec's name for it.
///
/// ```text
/// code_set! {
///     /// doc, citing the spec table
///     pub struct Name(u8) {        // or: pub enum Name {
///         /// doc
///         ROW = 0x01, "Spec name";  //      Row = 0x01, "Spec name";
///     }
/// }
/// ```
///
/// The spec has two kinds of code field, and each gets its own shape:
///
/// - **Open** (`pub struct Name(u8)`): a field whose unknown values must
///   still parse, such as NetFn, completion codes, payload types, sensor
///   types and units (STYLE item 12). The type is a newtype over the byte
///   with one associated const per row, so any byte is a value: `From<u8>`
///   never fails, and a handler decides what an unknown code means (an
///   unknown command is answered with C1h, not dropped by the parser).
///   `Debug` prints the spec name and the code (`Chassis(0x00)`) or, for an
///   unknown code, the type name and the code (`NetFn(0x30)`); `Display`
///   prints `0x00 (Chassis)`.
/// - **Closed** (`pub enum Name`): a field where the spec reserves every
///   value it does not name, and a request carrying one is refused with
///   completion code CCh, such as the boot device selector or the watchdog
///   timeout action. The type is an enum with one variant per row, so a
///   stored value is always one the spec defines and `match` is exhaustive.
///   `Debug` prints the variant, which is the spec's name. The variants'
///   discriminants are their codes, so even `as u8` gives the wire value,
///   but `code()` says so without a cast.
///
/// Both shapes get the same table API:
///
/// - `from_code(u8) -> Option<Self>`: the row with this code, or `None` for a
///   code the table does not name. For a closed set this is the decoder, and
///   the caller answers `None` with the completion code the spec gives (CCh
///   for a reserved field value; 80h for a boot option parameter this BMC
///   does not support). For an open set it is the check a handler uses where
///   the spec refuses reserved values (decoding uses `From<u8>`).
/// - `code(self) -> u8`: the value on the wire.
/// - `name(self)`: the spec's name, `Option<&'static str>` for an open set
///   (an unknown code has none), `&'static str` for a closed one.
/// - `KNOWN`: every row in table order, for table tests (STYLE item 41).
/// - `Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd`; more
///   derives (e.g. `Default` with a `#[default]` variant) can be added in
///   the attributes.
///
/// Rows are written in the spec table's order. A code listed twice is an
/// unreachable-pattern warning, which CI turns into an error.
#[macro_export]
macro_rules! code_set {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident(u8) {
            $( $(#[$rmeta:meta])* $konst:ident = $value:literal, $text:literal; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Eq, Hash, Ord, PartialEq, PartialOrd)]
        $vis struct $name(pub u8);

        impl $name {
            $( $(#[$rmeta])* pub const $konst: Self = Self($value); )*

            /// The named code with this value; `None` for a code the table
            /// does not name (use `From<u8>` to decode any code).
            pub fn from_code(code: u8) -> ::core::option::Option<Self> {
                match code {
                    $( $value => ::core::option::Option::Some(Self::$konst), )*
                    _ => ::core::option::Option::None,
                }
            }

            /// The code's value on the wire.
            pub fn code(self) -> u8 {
                self.0
            }

            /// The specification's name for this code, if it has one.
            pub fn name(self) -> ::core::option::Option<&'static str> {
                match self.0 {
                    $( $value => ::core::option::Option::Some($text), )*
                    _ => ::core::option::Option::None,
                }
            }

            /// Every code the table names, in the spec table's order.
            pub const KNOWN: &'static [Self] = &[$(Self::$konst),*];
        }

        impl ::core::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                match self.name() {
                    ::core::option::Option::Some(text) => write!(f, "{}({:#04x})", text, self.0),
                    ::core::option::Option::None => {
                        write!(f, "{}({:#04x})", stringify!($name), self.0)
                    }
                }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                match self.name() {
                    ::core::option::Option::Some(text) => write!(f, "{:#04x} ({})", self.0, text),
                    ::core::option::Option::None => write!(f, "{:#04x}", self.0),
                }
            }
        }

        impl ::core::convert::From<u8> for $name {
            fn from(raw: u8) -> Self {
                Self(raw)
            }
        }

        impl ::core::convert::From<$name> for u8 {
            fn from(code: $name) -> u8 {
                code.0
            }
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$rmeta:meta])* $variant:ident = $value:literal, $text:literal; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
        #[repr(u8)]
        $vis enum $name {
            $( $(#[$rmeta])* $variant = $value, )*
        }

        impl $name {
            /// Decodes a code; a value the spec reserves gives `None`, which
            /// a handler refuses with completion code CCh.
            pub fn from_code(code: u8) -> ::core::option::Option<Self> {
                match code {
                    $( $value => ::core::option::Option::Some(Self::$variant), )*
                    _ => ::core::option::Option::None,
                }
            }

            /// The code's value on the wire.
            pub fn code(self) -> u8 {
                match self {
                    $( Self::$variant => $value, )*
                }
            }

            /// The specification's name for this code.
            pub fn name(self) -> &'static str {
                match self {
                    $( Self::$variant => $text, )*
                }
            }

            /// Every code the table names, in the spec table's order.
            pub const KNOWN: &'static [Self] = &[$(Self::$variant),*];
        }
    };
}

#[cfg(test)]
mod tests {
    crate::code_set! {
        /// An open test table.
        pub struct Open(u8) {
            /// One.
            ONE = 0x01, "One";
            /// Two.
            TWO = 0x02, "Two";
        }
    }

    crate::code_set! {
        /// A closed test table.
        #[derive(Default)]
        pub enum Closed {
            /// One.
            #[default]
            One = 0x01, "One";
            /// Three.
            Three = 0x03, "Three";
        }
    }

    #[test]
    fn open_sets_decode_every_byte_and_name_the_known_ones() {
        for raw in 0..=u8::MAX {
            let code = Open::from(raw);
            assert_eq!((code.code(), u8::from(code)), (raw, raw));
            assert_eq!(Open::from_code(raw).is_some(), code.name().is_some());
        }
        assert_eq!(Open::KNOWN, [Open::ONE, Open::TWO]);
        assert_eq!(Open::from_code(0x02), Some(Open::TWO));
        assert_eq!(Open::from_code(0x03), None);
        assert_eq!(format!("{:?}", Open::ONE), "One(0x01)");
        assert_eq!(format!("{:?}", Open(0x80)), "Open(0x80)");
        assert_eq!(format!("{}", Open::TWO), "0x02 (Two)");
        assert_eq!(format!("{}", Open(0xC0)), "0xc0");
    }

    #[test]
    fn closed_sets_refuse_reserved_codes() {
        for &known in Closed::KNOWN {
            assert_eq!(Closed::from_code(known.code()), Some(known));
        }
        for reserved in [0x00, 0x02, 0x04, 0xFF] {
            assert_eq!(Closed::from_code(reserved), None, "{reserved:#x}");
        }
        assert_eq!((Closed::Three.code(), Closed::Three.name()), (3, "Three"));
        assert_eq!(Closed::default(), Closed::One);
        assert_eq!(format!("{:?}", Closed::Three), "Three");
        assert_eq!(Closed::Three as u8, 3, "discriminants are the codes");
    }
}

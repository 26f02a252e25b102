//! A writer of newc ("070701") cpio archives, the format the kernel unpacks
//! as an initramfs: the QEMU guests' root file systems and the files a
//! test adds to an image.

use std::path::Path;

/// Writes a newc ("070701") cpio archive, the format the kernel unpacks as
/// an initramfs.
#[derive(Default)]
pub struct Cpio {
    out: Vec<u8>,
    ino: u32,
}

impl Cpio {
    /// Adds an entry: `mode` is the full st_mode (type and permissions).
    pub fn entry(&mut self, name: &str, mode: u32, data: &[u8]) {
        self.ino += 1;
        let fields = [
            self.ino,
            mode,
            0,
            0,
            1,
            0,
            u32::try_from(data.len()).unwrap(),
            0,
            0,
            0,
            0,
            u32::try_from(name.len() + 1).unwrap(),
            0,
        ];
        self.out.extend_from_slice(b"070701");
        for field in fields {
            self.out
                .extend_from_slice(format!("{field:08X}").as_bytes());
        }
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(0);
        self.pad();
        self.out.extend_from_slice(data);
        self.pad();
    }

    fn pad(&mut self) {
        while !self.out.len().is_multiple_of(4) {
            self.out.push(0);
        }
    }

    /// Adds a directory.
    pub fn dir(&mut self, name: &str) {
        self.entry(name, 0o040_755, &[]);
    }

    /// Adds a file with the contents of `source`.
    pub fn file(&mut self, name: &str, source: &Path, executable: bool) {
        let data = std::fs::read(source).unwrap_or_else(|e| panic!("{}: {e}", source.display()));
        self.entry(name, if executable { 0o100_755 } else { 0o100_644 }, &data);
    }

    /// Adds a symbolic link.
    pub fn symlink(&mut self, name: &str, target: &str) {
        self.entry(name, 0o120_777, target.as_bytes());
    }

    /// Ends the archive and returns its bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, &[]);
        self.out
    }
}

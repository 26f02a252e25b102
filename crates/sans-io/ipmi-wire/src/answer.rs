//! A response as the requester receives it: its completion code and the
//! data after it. Most commands carry data only on success, so handlers
//! return `Result<Vec<u8>, CompletionCode>`; a few have data with another
//! code too (DCMI's Get Power Limit answers 80h, "no active power limit",
//! with the settings), and the transports carry an [`Answer`] whole.

use crate::CompletionCode;

/// A completion code and the data after it.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Answer {
    /// The completion code.
    pub code: CompletionCode,
    /// The data after it.
    pub data: Vec<u8>,
}

impl Answer {
    /// `code` with `data`.
    pub fn new(code: CompletionCode, data: Vec<u8>) -> Self {
        Self { code, data }
    }

    /// As a handler's result: the data on success, else the code alone
    /// (what a path that cannot carry more keeps).
    pub fn into_result(self) -> Result<Vec<u8>, CompletionCode> {
        if self.code == CompletionCode::SUCCESS {
            Ok(self.data)
        } else {
            Err(self.code)
        }
    }
}

impl From<Result<Vec<u8>, CompletionCode>> for Answer {
    fn from(result: Result<Vec<u8>, CompletionCode>) -> Self {
        match result {
            Ok(data) => Self::new(CompletionCode::SUCCESS, data),
            Err(code) => Self::new(code, Vec::new()),
        }
    }
}

impl From<CompletionCode> for Answer {
    fn from(code: CompletionCode) -> Self {
        Self::new(code, Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_becomes_an_answer_and_back() {
        let ok: Answer = Ok(vec![1]).into();
        assert_eq!(ok, Answer::new(CompletionCode::SUCCESS, vec![1]));
        assert_eq!(ok.into_result(), Ok(vec![1]));
        let refused: Answer = Err(CompletionCode::INVALID_COMMAND).into();
        assert!(refused.data.is_empty());
        let with_data = Answer::new(CompletionCode(0x80), vec![0xDC]);
        assert_eq!(with_data.into_result(), Err(CompletionCode(0x80)));
    }
}

//! Just enough of PostgreSQL's wire protocol (version 3) to relay it: frame
//! boundaries, and the few messages the scheduler must recognise. Every
//! byte is forwarded as it came; nothing here re-encodes a message.
//!
//! Frontend: the untyped startup packet (`SSLRequest`, `GSSENCRequest`,
//! `CancelRequest`, `StartupMessage`), then typed messages (`Q` Query, the
//! extended protocol's `P`arse / `B`ind / `E`xecute / `S`ync, `X`
//! Terminate). Backend: `K` BackendKeyData (the server process id),
//! `Z` ReadyForQuery (the end of a step), `C` CommandComplete (the result
//! tag), `E` ErrorResponse (the SQLSTATE).

use tokio::io::{AsyncRead, AsyncReadExt};

pub const SSL_REQUEST: u32 = 80877103;
pub const GSSENC_REQUEST: u32 = 80877104;
pub const CANCEL_REQUEST: u32 = 80877102;

/// Longest message accepted: a guard against a garbled length, well past
/// any statement a test sends.
const MAX_MESSAGE: usize = 256 << 20;

/// One typed message: its type byte and its whole frame (type, length, body).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub tag: u8,
    pub frame: Vec<u8>,
}

impl Message {
    pub fn body(&self) -> &[u8] {
        &self.frame[5..]
    }
}

/// Reads typed messages from a stream. Cancel-safe: a read abandoned
/// half-way (the scheduler released a step while more of the client's batch
/// was arriving) loses nothing, because bytes are kept here until a whole
/// frame is in.
pub struct FrameReader<R> {
    inner: R,
    buffer: Vec<u8>,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    pub fn new(inner: R) -> FrameReader<R> {
        FrameReader {
            inner,
            buffer: Vec::new(),
        }
    }

    /// The next message; `None` at a clean end of stream.
    pub async fn next(&mut self) -> std::io::Result<Option<Message>> {
        loop {
            if let Some(message) = self.take_frame()? {
                return Ok(Some(message));
            }
            let mut chunk = [0u8; 16 * 1024];
            // `read` is cancel-safe: if this future is dropped here, no
            // bytes were taken from the stream.
            let n = self.inner.read(&mut chunk).await?;
            if n == 0 {
                return if self.buffer.is_empty() {
                    Ok(None)
                } else {
                    Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the stream ended inside a message",
                    ))
                };
            }
            self.buffer.extend_from_slice(&chunk[..n]);
        }
    }

    fn take_frame(&mut self) -> std::io::Result<Option<Message>> {
        if self.buffer.len() < 5 {
            return Ok(None);
        }
        let b = &self.buffer;
        let length = u32::from_be_bytes([b[1], b[2], b[3], b[4]]) as usize;
        if !(4..=MAX_MESSAGE).contains(&length) {
            return Err(invalid(format!(
                "a message of type {:?} claims length {length}",
                b[0] as char
            )));
        }
        if self.buffer.len() < 1 + length {
            return Ok(None);
        }
        let frame: Vec<u8> = self.buffer.drain(..1 + length).collect();
        Ok(Some(Message {
            tag: frame[0],
            frame,
        }))
    }
}

/// Reads the untyped startup packet: its whole frame and its code (the
/// protocol version, or one of the request codes above).
pub async fn read_startup<R: AsyncRead + Unpin>(
    reader: &mut R,
) -> std::io::Result<Option<(u32, Vec<u8>)>> {
    let mut header = [0u8; 4];
    match reader.read_exact(&mut header).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let length = u32::from_be_bytes(header) as usize;
    if !(8..=10_000).contains(&length) {
        return Err(invalid(format!("a startup packet claims length {length}")));
    }
    let mut frame = header.to_vec();
    frame.resize(length, 0);
    reader.read_exact(&mut frame[4..]).await?;
    let code = u32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
    Ok(Some((code, frame)))
}

fn invalid(why: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, why)
}

/// A NUL-terminated string at the start of `bytes`, and what follows it.
fn cstr(bytes: &[u8]) -> (String, &[u8]) {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let rest = bytes.get(end + 1..).unwrap_or(&[]);
    (String::from_utf8_lossy(&bytes[..end]).into_owned(), rest)
}

/// The SQL text of a `Q` Query message.
pub fn query_text(message: &Message) -> String {
    cstr(message.body()).0
}

/// A `P` Parse message: the prepared statement's name and its SQL.
pub fn parse_message(message: &Message) -> (String, String) {
    let (name, rest) = cstr(message.body());
    (name, cstr(rest).0)
}

/// A `B` Bind message: the prepared statement it binds.
pub fn bind_statement(message: &Message) -> String {
    let (_portal, rest) = cstr(message.body());
    cstr(rest).0
}

/// `K` BackendKeyData: the server process id.
pub fn backend_pid(message: &Message) -> Option<i32> {
    let body = message.body();
    (body.len() >= 4).then(|| i32::from_be_bytes([body[0], body[1], body[2], body[3]]))
}

/// `Z` ReadyForQuery: the transaction status (`I` idle, `T` in a
/// transaction, `E` in a failed transaction).
pub fn transaction_status(message: &Message) -> u8 {
    message.body().first().copied().unwrap_or(b'I')
}

/// `C` CommandComplete: the tag ("UPDATE 1", "COMMIT").
pub fn command_tag(message: &Message) -> String {
    cstr(message.body()).0
}

/// `E` ErrorResponse: its SQLSTATE (`C` field) and message (`M` field).
pub fn error_fields(message: &Message) -> (String, String) {
    let mut code = String::new();
    let mut text = String::new();
    let mut rest = message.body();
    while let Some((&field, after)) = rest.split_first() {
        if field == 0 {
            break;
        }
        let (value, next) = cstr(after);
        match field {
            b'C' => code = value,
            b'M' => text = value,
            _ => {}
        }
        rest = next;
    }
    (code, text)
}

/// A StartupMessage frame with its `database` parameter set to `database`
/// (added if the client named none); other parameters as they were.
pub fn with_database(frame: &[u8], database: &str) -> Vec<u8> {
    if database.is_empty() || frame.len() < 8 {
        return frame.to_vec();
    }
    let mut body = frame[4..8].to_vec();
    let mut rest = &frame[8..];
    let mut named = false;
    while !rest.is_empty() && rest[0] != 0 {
        let (key, after) = cstr(rest);
        let (value, next) = cstr(after);
        let value = if key == "database" {
            named = true;
            database.to_string()
        } else {
            value
        };
        for text in [key, value] {
            body.extend_from_slice(text.as_bytes());
            body.push(0);
        }
        rest = next;
    }
    if !named {
        body.extend_from_slice(b"database\0");
        body.extend_from_slice(database.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut out = ((body.len() + 4) as u32).to_be_bytes().to_vec();
    out.extend(body);
    out
}

/// The `database` parameter of a StartupMessage frame, if any.
pub fn startup_database(frame: &[u8]) -> Option<String> {
    let mut rest = frame.get(8..)?;
    let mut user = None;
    while !rest.is_empty() && rest[0] != 0 {
        let (key, after) = cstr(rest);
        let (value, next) = cstr(after);
        match key.as_str() {
            "database" => return Some(value),
            "user" => user = Some(value),
            _ => {}
        }
        rest = next;
    }
    user
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut f = vec![tag];
        f.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
        f.extend_from_slice(body);
        f
    }

    fn read_all(bytes: &[u8]) -> Vec<Message> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut reader = FrameReader::new(bytes);
            let mut out = Vec::new();
            while let Some(m) = reader.next().await.unwrap() {
                out.push(m);
            }
            out
        })
    }

    #[test]
    fn frames_split_at_their_lengths_and_keep_every_byte() {
        let mut bytes = frame(b'Q', b"SELECT 1\0");
        bytes.extend(frame(b'Z', b"T"));
        let messages = read_all(&bytes);
        assert_eq!(messages.len(), 2);
        assert_eq!(query_text(&messages[0]), "SELECT 1");
        assert_eq!(transaction_status(&messages[1]), b'T');
        let rejoined: Vec<u8> = messages.iter().flat_map(|m| m.frame.clone()).collect();
        assert_eq!(rejoined, bytes);
    }

    #[test]
    fn a_read_abandoned_half_way_loses_nothing() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (mut writer, reader) = tokio::io::duplex(64);
            let mut frames = FrameReader::new(reader);
            let bytes = frame(b'Q', b"SELECT 1\0");
            use tokio::io::AsyncWriteExt;
            writer.write_all(&bytes[..7]).await.unwrap();
            // Half a frame is in: the read waits, and is given up.
            let waited =
                tokio::time::timeout(std::time::Duration::from_millis(5), frames.next()).await;
            assert!(waited.is_err());
            writer.write_all(&bytes[7..]).await.unwrap();
            let message = frames.next().await.unwrap().unwrap();
            assert_eq!(message.frame, bytes);
        });
    }

    #[test]
    fn error_response_gives_its_sqlstate_and_message() {
        let m = Message {
            tag: b'E',
            frame: frame(b'E', b"SERROR\0C40P01\0Mdeadlock detected\0\0"),
        };
        assert_eq!(
            error_fields(&m),
            ("40P01".to_string(), "deadlock detected".to_string())
        );
    }

    #[test]
    fn parse_and_bind_name_the_statement() {
        let p = Message {
            tag: b'P',
            frame: frame(b'P', b"s1\0SELECT $1\0\0\0"),
        };
        assert_eq!(parse_message(&p), ("s1".into(), "SELECT $1".into()));
        let b = Message {
            tag: b'B',
            frame: frame(b'B', b"\0s1\0\0\0\0\0\0\0"),
        };
        assert_eq!(bind_statement(&b), "s1");
    }

    #[test]
    fn the_startup_database_is_replaced_and_the_rest_kept() {
        let mut body = 196608u32.to_be_bytes().to_vec();
        body.extend_from_slice(b"user\0alice\0database\0old\0application_name\0app\0\0");
        let mut frame = ((body.len() + 4) as u32).to_be_bytes().to_vec();
        frame.extend(body);
        let new = with_database(&frame, "run_7");
        assert_eq!(startup_database(&new).as_deref(), Some("run_7"));
        assert_eq!(
            u32::from_be_bytes([new[0], new[1], new[2], new[3]]) as usize,
            new.len()
        );
        assert!(new.windows(15).any(|w| w == b"application_nam"));
        let without = with_database(&frame, "");
        assert_eq!(without, frame);
    }

    #[test]
    fn a_garbled_length_is_an_error_not_an_allocation() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let bytes = [b'Q', 0xff, 0xff, 0xff, 0xff];
        let result = runtime.block_on(async { FrameReader::new(&bytes[..]).next().await });
        assert!(result.is_err());
    }
}

//! The value of `client-output-buffer-limit`: per class (`normal`, `pubsub`, `replica`) a
//! hard and a soft limit in bytes and the seconds a client may stay above the soft one, with
//! Redis's syntax and defaults. Enforced by `state::output::OutputMeter`.

/// One class's limits: bytes (0: none) and seconds above `soft` before a close.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub hard: u64,
    pub soft: u64,
    pub soft_seconds: u64,
}

impl Limit {
    pub const NONE: Limit = Limit {
        hard: 0,
        soft: 0,
        soft_seconds: 0,
    };
}

/// Which class a client's output counts against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Normal,
    Replica,
    Pubsub,
}

/// The three classes' limits (`client-output-buffer-limit`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputLimits {
    pub normal: Limit,
    pub replica: Limit,
    pub pubsub: Limit,
}

impl Default for OutputLimits {
    fn default() -> OutputLimits {
        OutputLimits {
            normal: Limit::NONE,
            replica: Limit {
                hard: 256 * 1024 * 1024,
                soft: 64 * 1024 * 1024,
                soft_seconds: 60,
            },
            pubsub: Limit {
                hard: 32 * 1024 * 1024,
                soft: 8 * 1024 * 1024,
                soft_seconds: 60,
            },
        }
    }
}

impl OutputLimits {
    pub fn get(&self, class: Class) -> Limit {
        match class {
            Class::Normal => self.normal,
            Class::Replica => self.replica,
            Class::Pubsub => self.pubsub,
        }
    }

    /// These limits with the classes named in `text` changed: `<class> <hard> <soft>
    /// <seconds>` repeated (sizes with Redis's units), as `CONFIG SET` and the config file take
    /// it. All or nothing: an error names what is wrong.
    pub fn updated(&self, text: &str) -> Result<OutputLimits, String> {
        let words: Vec<&str> = text.split_whitespace().collect();
        if words.is_empty() || !words.len().is_multiple_of(4) {
            return Err("Wrong number of arguments in buffer limit configuration.".into());
        }
        let mut out = *self;
        for group in words.chunks(4) {
            let class = match group[0].to_ascii_lowercase().as_str() {
                "normal" => Class::Normal,
                "replica" | "slave" => Class::Replica,
                "pubsub" => Class::Pubsub,
                _ => {
                    return Err(
                        "Invalid client class specified in buffer limit configuration.".into(),
                    )
                }
            };
            let size = |s: &str| crate::config::parse_memory(s);
            let (Some(hard), Some(soft), Some(soft_seconds)) =
                (size(group[1]), size(group[2]), group[3].parse::<u64>().ok())
            else {
                return Err(
                    "Error in hard, soft or soft_seconds setting in buffer limit configuration."
                        .into(),
                );
            };
            let limit = Limit {
                hard,
                soft,
                soft_seconds,
            };
            match class {
                Class::Normal => out.normal = limit,
                Class::Replica => out.replica = limit,
                Class::Pubsub => out.pubsub = limit,
            }
        }
        Ok(out)
    }

    /// As `CONFIG GET` shows it (Redis's order and names, bytes).
    pub fn render(&self) -> String {
        let one = |name: &str, l: Limit| format!("{name} {} {} {}", l.hard, l.soft, l.soft_seconds);
        format!(
            "{} {} {}",
            one("normal", self.normal),
            one("slave", self.replica),
            one("pubsub", self.pubsub)
        )
    }
}

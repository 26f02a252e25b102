//! [`Board`] on the Linux GPIO character device (gpiocdev, uAPI v2).
//!
//! Each line is found by name across all chips, requested with its polarity
//! (so "asserted" means asserted), outputs start released, and inputs are
//! watched with edge events, not polling.

use std::collections::HashMap;

use gpiocdev::{
    line::{EdgeDetection, Value},
    tokio::AsyncRequest,
    Request,
};
use rbmc_config::{LineConfig, Power};
use tokio::sync::watch;
use tracing::warn;

use super::{Board, BoardError, Inputs, Line};

/// Power control lines on GPIO chips.
pub struct CdevBoard {
    outputs: HashMap<Line, (String, Request)>,
    inputs: watch::Receiver<Inputs>,
}

impl CdevBoard {
    /// Requests every configured line. Fails naming the first line that is
    /// missing; power-good is required.
    pub fn open(config: &Power) -> Result<Self, BoardError> {
        let mut outputs = HashMap::new();
        for (line, cfg) in [
            (Line::PowerButton, &config.power_button),
            (Line::ResetButton, &config.reset_button),
            (Line::Nmi, &config.nmi),
            (Line::IdentifyLed, &config.identify_led),
        ] {
            if let Some(cfg) = cfg {
                let request = request(cfg, |b| {
                    b.as_output(Value::Inactive);
                })?;
                outputs.insert(line, (cfg.name.clone(), request));
            }
        }
        let power_good = config.power_good.as_ref().ok_or(BoardError::NoPowerGood)?;
        let pg = request(power_good, |b| {
            b.as_input().with_edge_detection(EdgeDetection::BothEdges);
        })?;
        let intrusion = config
            .intrusion
            .as_ref()
            .map(|cfg| {
                request(cfg, |b| {
                    b.as_input().with_edge_detection(EdgeDetection::BothEdges);
                })
            })
            .transpose()?;
        let level = |req: &Request| -> bool {
            req.lone_value()
                .map(|v| v == Value::Active)
                .unwrap_or(false)
        };
        let initial = Inputs {
            power_good: level(&pg),
            intrusion: intrusion.as_ref().map(level).unwrap_or(false),
        };
        let (tx, rx) = watch::channel(initial);
        spawn_watcher(pg, tx.clone(), |inputs, v| inputs.power_good = v);
        if let Some(intrusion) = intrusion {
            spawn_watcher(intrusion, tx, |inputs, v| inputs.intrusion = v);
        }
        Ok(Self {
            outputs,
            inputs: rx,
        })
    }
}

fn request(
    cfg: &LineConfig,
    configure: impl FnOnce(&mut gpiocdev::request::Builder),
) -> Result<Request, BoardError> {
    let found = gpiocdev::find_named_line(&cfg.name)
        .ok_or_else(|| BoardError::LineNotFound(cfg.name.clone()))?;
    let mut builder = Request::builder();
    builder.with_found_line(&found).with_consumer("rbmc-powerd");
    if cfg.active_low {
        builder.as_active_low();
    }
    configure(&mut builder);
    builder.request().map_err(|e| BoardError::Gpio {
        line: cfg.name.clone(),
        cause: e.to_string(),
    })
}

fn spawn_watcher(request: Request, tx: watch::Sender<Inputs>, apply: fn(&mut Inputs, bool)) {
    let request = AsyncRequest::new(request);
    tokio::spawn(async move {
        loop {
            match request.read_edge_event().await {
                Ok(event) => {
                    let asserted = event.kind == gpiocdev::line::EdgeKind::Rising;
                    tx.send_modify(|inputs| apply(inputs, asserted));
                }
                Err(err) => {
                    warn!(cause = %err, "GPIO edge events stopped");
                    return;
                }
            }
        }
    });
}

impl Board for CdevBoard {
    fn set(&self, line: Line, asserted: bool) -> Result<(), BoardError> {
        let (name, request) = self
            .outputs
            .get(&line)
            .ok_or(BoardError::NotConfigured(line))?;
        let value = if asserted {
            Value::Active
        } else {
            Value::Inactive
        };
        request.set_lone_value(value).map_err(|e| BoardError::Gpio {
            line: name.clone(),
            cause: e.to_string(),
        })
    }

    fn inputs(&self) -> watch::Receiver<Inputs> {
        self.inputs.clone()
    }
}

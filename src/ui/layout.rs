//! Where each pane goes. At 120 columns and more, namespaces and pods sit side by side; below
//! that the focused pane grows and the others shrink to a line or two of data.

use ratatui::layout::Rect;

use crate::app::state::{Pane, State, Ui};

pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;
/// From this width namespaces and pods sit side by side.
const WIDE: u16 = 160;
/// From this width (and 30 rows) the unfocused panes keep several rows.
const ROOMY: u16 = 100;
/// Borders and the header line of a table pane.
const CHROME: u16 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub phase_bar: Rect,
    /// The rollback banner, while a trigger is breached.
    pub banner: Option<Rect>,
    pub control_planes: Rect,
    pub namespaces: Rect,
    pub pods: Rect,
    pub logs: Rect,
    pub cockpit_log: Option<Rect>,
    pub status: Rect,
}

impl Areas {
    /// The same areas, laid out from `(x, y)` instead of the screen's corner.
    pub fn moved_to(self, x: u16, y: u16) -> Areas {
        let at = |r: Rect| Rect {
            x: r.x + x,
            y: r.y + y,
            ..r
        };
        Areas {
            phase_bar: at(self.phase_bar),
            banner: self.banner.map(at),
            control_planes: at(self.control_planes),
            namespaces: at(self.namespaces),
            pods: at(self.pods),
            logs: at(self.logs),
            cockpit_log: self.cockpit_log.map(at),
            status: at(self.status),
        }
    }

    pub fn of(&self, pane: Pane) -> Rect {
        match pane {
            Pane::ControlPlanes => self.control_planes,
            Pane::Namespaces => self.namespaces,
            Pane::Pods => self.pods,
            Pane::Logs => self.logs,
        }
    }
}

fn take_top(area: &mut Rect, rows: u16) -> Rect {
    let rows = rows.min(area.height);
    let top = Rect {
        height: rows,
        ..*area
    };
    area.y += rows;
    area.height -= rows;
    top
}

fn take_bottom(area: &mut Rect, rows: u16) -> Rect {
    let rows = rows.min(area.height);
    area.height -= rows;
    Rect {
        y: area.y + area.height,
        height: rows,
        ..*area
    }
}

/// The areas of every pane, or None when the terminal is too small to be useful.
pub fn areas(width: u16, height: u16, ui: &Ui, revisions: usize) -> Option<Areas> {
    if width < MIN_WIDTH || height < MIN_HEIGHT {
        return None;
    }
    let mut rest = Rect::new(0, 0, width, height);
    let status = take_bottom(&mut rest, 1);
    let phase_bar = take_top(&mut rest, 1);
    let banner = ui.breach_banner.then(|| take_top(&mut rest, 1));
    let wide = width >= WIDE && height >= 30;
    let roomy = width >= ROOMY && height >= 30;
    let control_full = (revisions.max(1) as u16 + CHROME).min(10);
    let control_rows = if roomy || ui.focus == Pane::ControlPlanes {
        control_full
    } else {
        control_full.min(CHROME + 2)
    };
    let control_planes = take_top(&mut rest, control_rows);
    let logs_rows = if ui.focus == Pane::Logs {
        rest.height * 3 / 5
    } else if roomy {
        (rest.height * 2 / 5).max(6)
    } else {
        CHROME + 1
    };
    let mut logs = take_bottom(&mut rest, logs_rows);
    let cockpit_log = ui.cockpit_log.then(|| {
        if wide {
            let half = Rect {
                width: logs.width / 2,
                ..logs
            };
            let right = Rect {
                x: logs.x + half.width,
                width: logs.width - half.width,
                ..logs
            };
            logs = half;
            right
        } else {
            // Narrow: the cockpit's own log takes the logs' place.
            let all = logs;
            logs = Rect { height: 0, ..logs };
            all
        }
    });
    let (namespaces, pods) = if wide {
        let left = Rect {
            width: rest.width * 3 / 5,
            ..rest
        };
        let right = Rect {
            x: rest.x + left.width,
            width: rest.width - left.width,
            ..rest
        };
        (left, right)
    } else {
        // The focused one of the two gets most of the rows; on small screens the other keeps
        // one data row.
        let small = if roomy {
            rest.height * 2 / 5
        } else {
            CHROME + 1
        };
        let pods_rows = match ui.focus {
            Pane::Pods => rest.height.saturating_sub(small),
            Pane::Namespaces => small,
            _ => rest.height / 2,
        };
        let pods = take_bottom(&mut rest, pods_rows);
        (rest, pods)
    };
    Some(Areas {
        phase_bar,
        banner,
        control_planes,
        namespaces,
        pods,
        logs,
        cockpit_log,
        status,
    })
}

/// Data rows a table pane can show at the state's current size.
pub fn table_rows(state: &State, pane: Pane) -> usize {
    let revisions = crate::mesh::revisions::revision_count(&state.cluster);
    areas(state.ui.width, state.ui.height, &state.ui, revisions)
        .map_or(1, |a| a.of(pane).height.saturating_sub(CHROME) as usize)
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ui(focus: Pane) -> Ui {
        Ui {
            focus,
            ..Ui::default()
        }
    }

    #[test]
    fn panes_tile_the_screen_without_overlap() {
        for (w, h) in [(80, 24), (120, 40), (200, 60), (250, 70)] {
            for focus in Pane::ORDER {
                let a = areas(w, h, &ui(focus), 2).unwrap();
                let covered: u32 = [
                    a.phase_bar,
                    a.banner.unwrap_or_default(),
                    a.control_planes,
                    a.namespaces,
                    a.pods,
                    a.logs,
                    a.status,
                ]
                .iter()
                .map(|r| u32::from(r.width) * u32::from(r.height))
                .sum();
                assert_eq!(covered, u32::from(w) * u32::from(h), "{w}x{h} {focus:?}");
            }
        }
    }

    #[test]
    fn the_focused_pane_grows_on_small_screens() {
        let ns = areas(80, 24, &ui(Pane::Namespaces), 2).unwrap();
        let pods = areas(80, 24, &ui(Pane::Pods), 2).unwrap();
        assert!(ns.namespaces.height > ns.pods.height);
        assert_eq!(ns.namespaces.width, 80);
        assert!(pods.pods.height > pods.namespaces.height);
        assert!(areas(59, 24, &ui(Pane::Pods), 2).is_none());
        let wide = areas(200, 60, &ui(Pane::Pods), 2).unwrap();
        assert_eq!(wide.namespaces.y, wide.pods.y, "side by side when wide");
        assert!(areas(80, 15, &ui(Pane::Pods), 2).is_none());
    }

    #[test]
    fn the_banner_takes_a_row_under_the_phase_bar() {
        let mut alert = ui(Pane::Namespaces);
        alert.breach_banner = true;
        let a = areas(120, 40, &alert, 2).unwrap();
        let banner = a.banner.unwrap();
        assert_eq!((banner.y, banner.height, banner.width), (1, 1, 120));
        assert_eq!(a.control_planes.y, 2);
        assert!(
            areas(120, 40, &ui(Pane::Namespaces), 2)
                .unwrap()
                .banner
                .is_none()
        );
    }
}

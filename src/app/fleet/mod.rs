//! Several clusters in one cockpit: a `State` per cluster, the selected one on screen below
//! the fleet pane. Events go to the cluster they came from, keys to the one on screen, and
//! after each pass every cluster learns what it must know of the others (`refresh`).
//!
//! One cluster is a fleet of one: no fleet pane, its state sees the whole screen, and
//! nothing is computed across clusters.

mod refresh;
mod sample;
mod summaries;
#[cfg(test)]
mod tests;

use super::effects::Effects;
use super::event::Event;
use super::keymap::{Context, KeyAction};
use super::state::State;
use super::update::{Viewports, update};
use crate::mesh::fleet::Role;

/// One cluster of the fleet.
#[derive(Debug, Clone)]
pub struct Member {
    /// Its name in the fleet: the plan's `name`, else its context.
    pub name: String,
    /// The role the plan gives it; None: told from the cluster (istiod of its own or not).
    pub role: Option<Role>,
    pub state: State,
}

/// What reaches the fleet: the screen's events (keys, size, clock), or one cluster's.
#[derive(Debug, Clone, PartialEq)]
pub enum FleetEvent {
    Screen(Event),
    Cluster(usize, Event),
}

/// What the updates of a pass asked of the loop, per cluster (writes go to that cluster's
/// writer).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FleetEffects {
    pub members: Vec<Effects>,
    /// The fleet pane changed (the selected cluster).
    pub redraw: bool,
}

impl FleetEffects {
    fn of(members: usize) -> FleetEffects {
        FleetEffects {
            members: vec![Effects::default(); members],
            redraw: false,
        }
    }

    fn member(&mut self, i: usize) -> &mut Effects {
        if self.members.len() <= i {
            self.members.resize_with(i + 1, Effects::default);
        }
        &mut self.members[i]
    }

    pub fn absorb(&mut self, later: FleetEffects) {
        for (i, effects) in later.members.into_iter().enumerate() {
            self.member(i).absorb(effects);
        }
        self.redraw |= later.redraw;
    }

    pub fn redraw(&self) -> bool {
        self.redraw || self.members.iter().any(|e| e.redraw)
    }

    pub fn quit(&self) -> bool {
        self.members.iter().any(|e| e.quit)
    }

    /// The text the last key asked to copy, taken.
    pub fn take_copy(&mut self) -> Option<String> {
        self.members.iter_mut().filter_map(|e| e.copy.take()).last()
    }

    /// A frame was drawn.
    pub fn drawn(&mut self) {
        self.redraw = false;
        for e in &mut self.members {
            e.redraw = false;
        }
    }
}

#[derive(Debug, Clone)]
pub struct Fleet {
    pub members: Vec<Member>,
    /// The cluster on screen.
    pub selected: usize,
    pub width: u16,
    pub height: u16,
    /// The fleet's phases last sent to the primary's record, until the record has them or
    /// the write failed.
    pub fleet_record_sent: Option<std::collections::BTreeMap<String, String>>,
    /// Each cluster's row of the fleet pane, as last computed.
    summaries: Vec<summaries::CachedSummary>,
    /// Something other than the clock reached a cluster since the last refresh.
    changed: bool,
}

impl Fleet {
    /// A fleet of these clusters, the first on screen. An empty list is a caller's mistake
    /// the type cannot rule out: it is given one empty cluster rather than a panic.
    pub fn new(mut members: Vec<Member>) -> Fleet {
        if members.is_empty() {
            members.push(Member {
                name: String::new(),
                role: None,
                state: State::new(
                    "",
                    super::state::Mode::ReadOnly(String::new()),
                    1,
                    chrono::Utc::now(),
                ),
            });
        }
        if members.len() > 1 {
            let names: Vec<String> = members.iter().map(|m| m.name.clone()).collect();
            for member in &mut members {
                member.state.ui.clusters.clone_from(&names);
            }
        }
        let mut fleet = Fleet {
            members,
            selected: 0,
            width: 80,
            height: 24,
            fleet_record_sent: None,
            summaries: Vec::new(),
            changed: false,
        };
        fleet.refresh();
        fleet
    }

    /// More than one cluster: the fleet pane is shown and the clusters learn of each other.
    pub fn is_fleet(&self) -> bool {
        self.members.len() > 1
    }

    pub fn selected(&self) -> &Member {
        &self.members[self.selected.min(self.members.len() - 1)]
    }

    /// Rows the fleet pane takes at the top: a border, a header, a row per cluster, a border.
    pub fn pane_height(&self) -> u16 {
        if self.is_fleet() {
            (self.members.len() as u16).saturating_add(3)
        } else {
            0
        }
    }

    pub fn update(&mut self, event: FleetEvent, viewport: Viewports) -> FleetEffects {
        let mut effects = FleetEffects::of(self.members.len());
        // What the clusters know of each other never depends on the time alone.
        self.changed |= !matches!(event, FleetEvent::Screen(Event::Tick(_)));
        match event {
            FleetEvent::Cluster(i, event) => {
                if let Event::ActionDone {
                    action: super::actions::Action::RecordFleet { .. },
                    result: Err(_),
                } = &event
                {
                    self.fleet_record_sent = None;
                }
                if let Some(member) = self.members.get_mut(i) {
                    *effects.member(i) = update(&mut member.state, event, viewport);
                }
            }
            FleetEvent::Screen(Event::Resize(w, h)) => {
                self.width = w;
                self.height = h;
                let below = h.saturating_sub(self.pane_height());
                for (i, member) in self.members.iter_mut().enumerate() {
                    *effects.member(i) =
                        update(&mut member.state, Event::Resize(w, below), viewport);
                }
            }
            FleetEvent::Screen(Event::Key(key)) => {
                let i = self.selected;
                let state = &self.members[i].state;
                let next_cluster = self.is_fleet()
                    && super::on_key::context(state) == Context::Panes
                    && state.ui.keys.action(Context::Panes, &key) == Some(KeyAction::NextCluster);
                if next_cluster {
                    self.selected = (i + 1) % self.members.len();
                    self.members[self.selected].state.ui.notice = None;
                    effects.redraw = true;
                } else {
                    *effects.member(i) =
                        update(&mut self.members[i].state, Event::Key(key), viewport);
                    let asked = effects.member(i).select_cluster.take();
                    if let Some(j) =
                        asked.and_then(|n| self.members.iter().position(|m| m.name == n))
                    {
                        self.selected = j;
                        self.members[j].state.ui.notice = None;
                        effects.redraw = true;
                    }
                }
            }
            FleetEvent::Screen(event) => {
                for (i, member) in self.members.iter_mut().enumerate() {
                    *effects.member(i) = update(&mut member.state, event.clone(), viewport);
                }
            }
        }
        effects
    }

    /// Tells every cluster what it must know of the others, and records the fleet's phases
    /// on the primary when they changed; nothing on one cluster.
    pub fn refresh(&mut self) -> FleetEffects {
        self.changed = false;
        let mut effects = FleetEffects::of(self.members.len());
        if self.is_fleet() {
            refresh::facts(self);
            if let Some((i, command)) = refresh::fleet_record(self) {
                effects.member(i).send(command);
            }
            self.refresh_summaries();
        }
        effects
    }

    /// `refresh`, when an event other than the clock's came since the last one.
    pub fn refresh_if_changed(&mut self) -> FleetEffects {
        if self.changed {
            self.refresh()
        } else {
            FleetEffects::of(self.members.len())
        }
    }
}

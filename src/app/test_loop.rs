//! For unit tests that follow the cockpit through many events: the state as the loop holds
//! it, and what the updates asked of the loop, gathered as the loop gathers them.

use std::ops::{Deref, DerefMut};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::effects::Effects;
use super::event::Event;
use super::state::State;
use super::update::{Viewports, update};

pub struct TestLoop {
    pub state: State,
    /// Every command not cleared by the test yet, and whether a frame or the end was asked for.
    pub effects: Effects,
}

impl TestLoop {
    pub fn new(state: State) -> TestLoop {
        TestLoop {
            state,
            effects: Effects::default(),
        }
    }

    pub fn update(&mut self, event: Event, viewport: Viewports) {
        let effects = update(&mut self.state, event, viewport);
        self.effects.absorb(effects);
    }

    /// A key pressed without modifiers.
    pub fn press(&mut self, code: KeyCode, viewport: Viewports) {
        self.update(
            Event::Key(KeyEvent::new(code, KeyModifiers::NONE)),
            viewport,
        );
    }
}

impl Deref for TestLoop {
    type Target = State;

    fn deref(&self) -> &State {
        &self.state
    }
}

impl DerefMut for TestLoop {
    fn deref_mut(&mut self) -> &mut State {
        &mut self.state
    }
}

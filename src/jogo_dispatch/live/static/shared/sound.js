/* Shared by /map and /app: alert sounds with WebAudio. Browsers only let a page make sound after a user
 * gesture, so each page calls unlockAudio() from its taps / key presses (the login tap at the latest). */

let audio = null;

export function unlockAudio() {
  try {
    const AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) return;
    if (!audio) audio = new AC();
    if (audio.state === 'suspended') audio.resume().catch(() => {});
  } catch (e) { audio = null; }
}

export const audioRunning = () => !!audio && audio.state === 'running';

/** Square-wave beeps alternating between two pitches: `every` s apart, each `length` s long. */
export const PATTERNS = {
  // the live map: a citizen's SOS / an officer's distress alert
  alert: { count: 3, high: 880, low: 660, every: 0.28, peak: 0.18, attack: 0.015, fade: 0.2, length: 0.22 },
  // the live map: an officer in danger (panic, "need help", a missed welfare check), repeated until acknowledged
  alarm: { count: 8, high: 1040, low: 520, every: 0.2, peak: 0.22, attack: 0.01, fade: 0.17, length: 0.18 },
  // the officer's phone: a new assignment (repeated until answered)
  offer: { count: 6, high: 960, low: 700, every: 0.32, peak: 0.25, attack: 0.02, fade: 0.28, length: 0.3 },
  // the officer's phone: the welfare check "Aman?" (repeated until answered)
  welfare: { count: 4, high: 784, low: 988, every: 0.45, peak: 0.25, attack: 0.02, fade: 0.4, length: 0.42 },
};

/** Play a pattern (silently nothing before unlockAudio() has had a gesture). */
export function tones(p) {
  if (!audio) return;
  try {
    const t0 = audio.currentTime + 0.02;
    for (let i = 0; i < p.count; i++) {
      const at = t0 + i * p.every;
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = 'square';
      osc.frequency.value = i % 2 ? p.low : p.high;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(p.peak, at + p.attack);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + p.fade);
      osc.connect(gain).connect(audio.destination);
      osc.start(at);
      osc.stop(at + p.length);
    }
  } catch (e) { /* no sound, no problem */ }
}

// The rig in 3D (three.js, WebGL), built from the rig file's geometry (/api/rig) and driven by
// the pose the rig reaches: the forward kinematics of the actuator positions the control
// worker sent (the last 6 numbers of each live point). Frame: ISO 8855, x forward, y left, z up.
import * as THREE from '/vendor/three.module.js';

const LEG_COUNT = { 'stewart-linear': 6, 'stewart-rotary': 6, 'three-actuator': 3, 'two-actuator': 2, 'four-corner': 4 };

export class RigView {
  constructor(el, barsEl, scaleEl) {
    this.el = el;
    this.barsEl = barsEl;
    this.scaleEl = scaleEl;
    this.g = undefined;
  }

  build(g) {
    this.g = g;
    const geo = g.geometry;
    this.legs = LEG_COUNT[geo.type];
    let renderer;
    try {
      renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
    } catch (e) {
      this.el.textContent = `no WebGL here (${e.message}); the bars still show the actuators`;
    }
    if (renderer) {
      this.renderer = renderer;
      this.el.append(renderer.domElement);
      const scene = (this.scene = new THREE.Scene());
      scene.background = new THREE.Color(0x0c0f12);
      const size = Math.max(...geo.base.map((b) => Math.hypot(b[0], b[1])), 0.3);
      this.camera = new THREE.PerspectiveCamera(40, 1, 0.01, 100);
      this.camera.up.set(0, 0, 1);
      this.camera.position.set(-3.2 * size, -2.6 * size, 2.2 * size + geo.homeHeight);
      this.camera.lookAt(0, 0, geo.homeHeight * 0.6);
      scene.add(new THREE.AmbientLight(0xffffff, 0.6));
      const sun = new THREE.DirectionalLight(0xffffff, 1.2);
      sun.position.set(-2, -3, 5);
      scene.add(sun);
      const grid = new THREE.GridHelper(4 * size, 16, 0x334, 0x223);
      grid.rotation.x = Math.PI / 2;
      scene.add(grid);
      scene.add(new THREE.AxesHelper(size * 0.6));
      // Base: a closed polygon through the lower anchors; the yaw table turns it all.
      this.table = new THREE.Group();
      scene.add(this.table);
      if (geo.yaw) {
        const disc = new THREE.Mesh(new THREE.CylinderGeometry(size * 1.15, size * 1.15, 0.02, 48), new THREE.MeshStandardMaterial({ color: 0x3a4452 }));
        disc.rotation.x = Math.PI / 2;
        disc.position.z = -0.02;
        this.table.add(disc);
      }
      this.table.add(loop(geo.base, 0x8a929c));
      // Platform: a translucent plate through the upper anchors, plus a seat-direction arrow.
      this.platform = new THREE.Group();
      const shape = new THREE.Shape(geo.platform.map((p) => new THREE.Vector2(p[0], p[1])));
      const plate = new THREE.Mesh(new THREE.ShapeGeometry(shape), new THREE.MeshStandardMaterial({ color: 0x4f9cf9, transparent: true, opacity: 0.55, side: THREE.DoubleSide }));
      this.platform.add(plate, loop(geo.platform, 0x4f9cf9));
      this.platform.add(new THREE.ArrowHelper(new THREE.Vector3(1, 0, 0), new THREE.Vector3(0, 0, 0.01), size * 0.7, 0x2fbf71));
      this.table.add(this.platform);
      // Legs: base (or horn tip) to platform anchor; cranks also draw their horn.
      this.legLines = new THREE.LineSegments(new THREE.BufferGeometry(), new THREE.LineBasicMaterial({ color: 0xe3b341 }));
      this.legLines.geometry.setAttribute('position', new THREE.BufferAttribute(new Float32Array(this.legs * 4 * 3), 3));
      this.table.add(this.legLines);
      this.resize();
      window.addEventListener('resize', () => this.resize());
    }
    this.buildBars(g);
    this.pose = [0, 0, 0, 0, 0, 0];
    this.setPose(this.pose, g.neutral);
  }

  buildBars(g) {
    this.bars = g.limits.map((lim, i) => {
      const div = document.createElement('div');
      div.className = 'act';
      const span = lim.max - lim.min;
      const pct = (v) => `${(((v - lim.min) / span) * 100).toFixed(2)}%`;
      div.innerHTML = `<div class="label"></div><div class="track"><div class="margin" style="left:0;width:${pct(lim.low)}"></div><div class="margin" style="left:${pct(lim.high)};right:0"></div><div class="park" style="left:${pct(lim.park)}"></div><div class="pos"></div></div>`;
      this.barsEl.append(div);
      const name = g.geometry.yaw && i === this.legs ? 'yaw table' : `a${i + 1}`;
      return { label: div.querySelector('.label'), pos: div.querySelector('.pos'), lim, pct, name, unit: g.units[i] };
    });
  }

  resize() {
    if (!this.renderer) return;
    const w = this.el.clientWidth || 600;
    const h = this.el.clientHeight || 480;
    this.renderer.setSize(w, h);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    this.renderer.render(this.scene, this.camera);
  }

  update(status, points, visible) {
    if (!this.g) return;
    const last = points.length > 0 ? points[points.length - 1] : undefined;
    if (last) this.pose = last.slice(13, 19);
    if (!visible) return;
    this.setPose(this.pose, status.actuators);
    this.scaleEl.textContent = status.scale < 1 ? `${status.scale.toFixed(3)} (pose scaled toward neutral)` : status.scale.toFixed(3);
  }

  /** Pose [x y z roll pitch yaw] (m, rad) of the platform; actuator values in their own units. */
  setPose(pose, actuators) {
    const geo = this.g.geometry;
    this.bars.forEach((b, i) => {
      const v = actuators[i];
      b.pos.style.left = b.pct(Math.min(b.lim.max, Math.max(b.lim.min, v)));
      const toEnd = Math.min(v - b.lim.low, b.lim.high - v);
      b.label.textContent = `${b.name} ${b.unit === 'rad' ? `${((v * 180) / Math.PI).toFixed(1)}°` : `${(v * 1000).toFixed(1)} mm`} · ${((toEnd / (b.lim.high - b.lim.low)) * 100).toFixed(0)} % of travel to the nearest limit`;
    });
    if (!this.renderer || !pose) return;
    const yawTable = geo.yaw ? actuators[this.legs] : 0;
    this.table.rotation.z = geo.yaw ? yawTable : 0;
    const legYaw = geo.yaw ? 0 : pose[5];
    this.platform.position.set(pose[0], pose[1], geo.homeHeight + pose[2]);
    this.platform.rotation.set(pose[3], pose[4], legYaw, 'ZYX');
    this.platform.updateMatrix();
    const m = this.platform.matrix;
    const pos = this.legLines.geometry.attributes.position;
    for (let i = 0; i < this.legs; i++) {
      const b = geo.base[i];
      const top = new THREE.Vector3(...geo.platform[i]).applyMatrix4(m);
      let from = new THREE.Vector3(...b);
      if (geo.legKind === 'crank') {
        const a = geo.hornLength;
        const al = actuators[i];
        const be = geo.hornAngles[i];
        from = new THREE.Vector3(b[0] + a * Math.cos(al) * Math.cos(be), b[1] + a * Math.cos(al) * Math.sin(be), b[2] + a * Math.sin(al));
      }
      const base = new THREE.Vector3(...b);
      pos.setXYZ(4 * i, base.x, base.y, base.z);
      pos.setXYZ(4 * i + 1, from.x, from.y, from.z);
      pos.setXYZ(4 * i + 2, from.x, from.y, from.z);
      pos.setXYZ(4 * i + 3, top.x, top.y, top.z);
    }
    pos.needsUpdate = true;
    this.renderer.render(this.scene, this.camera);
  }
}

function loop(points, color) {
  const g = new THREE.BufferGeometry().setFromPoints([...points, points[0]].map((p) => new THREE.Vector3(...p)));
  return new THREE.Line(g, new THREE.LineBasicMaterial({ color }));
}

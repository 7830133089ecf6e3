//! Threaded modules (wasi-threads): what makes a module one, and the rewrite their code
//! gets before it is compiled.
//!
//! A thread blocked in `memory.atomic.wait32/64` waits in Wasmtime's parking lot, which
//! nothing but a `memory.atomic.notify` at the same address wakes: an instance could not
//! end while one of its threads waited for a notify that never comes. So every
//! `memory.atomic.wait32`, `memory.atomic.wait64` and `memory.atomic.notify` of a threaded
//! module becomes a call of a host function the instance provides (imported from module
//! [`MODULE`]), whose waits the instance can end. Each gets the instruction's operands
//! and, last, its static offset (`i32.const offset` is pushed before the call); every
//! function index after the imported functions moves up by three, the name section with
//! it, so backtraces keep their names.

use wasm_encoder::reencode::{self, Reencode};
use wasm_encoder::{EntityType, Instruction, ValType};
use wasmparser::{Operator, Parser, Payload, TypeRef};

/// The import module of the rewritten atomics.
pub(crate) const MODULE: &str = "lucet-wasi";
/// `(addr: i32, expected: i32, timeout: i64, offset: i32) -> i32`.
pub(crate) const WAIT32: &str = "memory.atomic.wait32";
/// `(addr: i32, expected: i64, timeout: i64, offset: i32) -> i32`.
pub(crate) const WAIT64: &str = "memory.atomic.wait64";
/// `(addr: i32, count: i32, offset: i32) -> i32`.
pub(crate) const NOTIFY: &str = "memory.atomic.notify";

/// What a module imports that makes it threaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Threading {
    /// The shared memory it imports: module, name, and its limits in pages.
    pub(crate) memory: (String, String, u64, Option<u64>),
    /// Whether it imports `wasi`.`thread-spawn`.
    pub(crate) spawns: bool,
}

/// Whether `wasm` (a binary module) imports a shared memory, and what. `Err`: a module
/// that is threaded in a way this runtime does not run (a message saying which).
pub(crate) fn threading(wasm: &[u8]) -> Result<Option<Threading>, String> {
    let mut memory = None;
    let mut spawns = false;
    for payload in Parser::new(0).parse_all(wasm) {
        let Ok(payload) = payload else {
            // Wasmtime's own validation reports it.
            return Ok(None);
        };
        match payload {
            Payload::ImportSection(section) => {
                for import in section.into_imports() {
                    let Ok(import) = import else { return Ok(None) };
                    match import.ty {
                        TypeRef::Memory(m) if m.shared => {
                            if m.memory64 {
                                return Err("a 64-bit shared memory".into());
                            }
                            if memory.is_some() {
                                return Err("more than one shared memory".into());
                            }
                            memory = Some((
                                import.module.to_string(),
                                import.name.to_string(),
                                m.initial,
                                m.maximum,
                            ));
                        }
                        TypeRef::Func(_) | TypeRef::FuncExact(_)
                            if import.module == "wasi" && import.name == "thread-spawn" =>
                        {
                            spawns = true
                        }
                        _ => {}
                    }
                }
            }
            // Imports come before everything that follows.
            Payload::FunctionSection(_) | Payload::CodeSectionStart { .. } => break,
            _ => {}
        }
    }
    match memory {
        Some(memory) => Ok(Some(Threading { memory, spawns })),
        None if spawns => Err("`wasi::thread-spawn` without a shared memory import".into()),
        None => Ok(None),
    }
}

/// `wasm` with its atomic waits and notifies made calls of the imports of [`MODULE`].
pub(crate) fn rewrite(wasm: &[u8]) -> Result<Vec<u8>, String> {
    let mut counts = Counts::default();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(|e| e.to_string())? {
            Payload::TypeSection(section) => {
                for group in section {
                    counts.types += group.map_err(|e| e.to_string())?.types().len() as u32;
                }
            }
            Payload::ImportSection(section) => {
                for import in section.into_imports() {
                    let import = import.map_err(|e| e.to_string())?;
                    if matches!(import.ty, TypeRef::Func(_) | TypeRef::FuncExact(_)) {
                        counts.imported_funcs += 1;
                    }
                }
                counts.imports = true;
            }
            Payload::CodeSectionStart { .. } => break,
            _ => {}
        }
    }
    if !counts.imports {
        return Err("a threaded module without an import section".into());
    }
    let mut rewriter = Rewriter {
        counts,
        types_done: false,
    };
    let mut module = wasm_encoder::Module::new();
    rewriter
        .parse_core_module(&mut module, Parser::new(0), wasm)
        .map_err(|e| match e {
            reencode::Error::UserError(message) => message,
            other => other.to_string(),
        })?;
    if !rewriter.types_done {
        return Err("a threaded module without a type section".into());
    }
    Ok(module.finish())
}

/// The sizes of the index spaces the rewrite shifts.
#[derive(Default, Clone, Copy)]
struct Counts {
    types: u32,
    imported_funcs: u32,
    imports: bool,
}

/// How many functions the rewrite imports.
const ADDED: u32 = 3;

struct Rewriter {
    counts: Counts,
    /// Whether the type section got the imports' types.
    types_done: bool,
}

impl Rewriter {
    /// The index of the added import `i` (0: wait32, 1: wait64, 2: notify).
    fn added(&self, i: u32) -> u32 {
        self.counts.imported_funcs + i
    }

    /// The instructions that replace an atomic wait or notify on `memory` at `offset`.
    fn call(
        &self,
        f: &mut wasm_encoder::Function,
        which: u32,
        memarg: wasmparser::MemArg,
    ) -> Result<(), String> {
        if memarg.memory != 0 {
            return Err("atomic waits on a memory other than the first".into());
        }
        let offset = u32::try_from(memarg.offset)
            .map_err(|_| "an atomic wait offset over 4 GiB".to_string())?;
        f.instruction(&Instruction::I32Const(offset as i32));
        f.instruction(&Instruction::Call(self.added(which)));
        Ok(())
    }
}

impl Reencode for Rewriter {
    type Error = String;

    fn function_index(&mut self, func: u32) -> Result<u32, reencode::Error<String>> {
        Ok(if func >= self.counts.imported_funcs {
            func + ADDED
        } else {
            func
        })
    }

    fn parse_type_section(
        &mut self,
        types: &mut wasm_encoder::TypeSection,
        section: wasmparser::TypeSectionReader<'_>,
    ) -> Result<(), reencode::Error<String>> {
        reencode::utils::parse_type_section(self, types, section)?;
        use ValType::{I32, I64};
        types.ty().function([I32, I32, I64, I32], [I32]);
        types.ty().function([I32, I64, I64, I32], [I32]);
        types.ty().function([I32, I32, I32], [I32]);
        self.types_done = true;
        Ok(())
    }

    fn parse_import_section(
        &mut self,
        imports: &mut wasm_encoder::ImportSection,
        section: wasmparser::ImportSectionReader<'_>,
    ) -> Result<(), reencode::Error<String>> {
        reencode::utils::parse_import_section(self, imports, section)?;
        let first = self.counts.types;
        for (i, name) in [WAIT32, WAIT64, NOTIFY].into_iter().enumerate() {
            imports.import(MODULE, name, EntityType::Function(first + i as u32));
        }
        Ok(())
    }

    fn parse_function_body(
        &mut self,
        code: &mut wasm_encoder::CodeSection,
        func: wasmparser::FunctionBody<'_>,
    ) -> Result<(), reencode::Error<String>> {
        let mut f = self.new_function_with_parsed_locals(&func)?;
        let mut reader = func.get_operators_reader()?;
        while !reader.eof() {
            let replaced = match reader.read()? {
                Operator::MemoryAtomicWait32 { memarg } => self.call(&mut f, 0, memarg),
                Operator::MemoryAtomicWait64 { memarg } => self.call(&mut f, 1, memarg),
                Operator::MemoryAtomicNotify { memarg } => self.call(&mut f, 2, memarg),
                op => {
                    f.instruction(&self.instruction(op)?);
                    Ok(())
                }
            };
            replaced.map_err(reencode::Error::UserError)?;
        }
        code.function(&f);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const THREADED: &str = r#"(module
        (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
        (import "env" "memory" (memory 1 4 shared))
        (func $wait (export "wait") (param i32) (result i32)
            (memory.atomic.wait32 offset=8 (local.get 0) (i32.const 0) (i64.const -1)))
        (func $wake (export "wake") (result i32)
            (memory.atomic.notify (i32.const 8) (i32.const 1)))
        (func (export "both") (result i32)
            (i32.add (call $wait (i32.const 0)) (call $wake))))"#;

    #[test]
    fn threading_is_told_from_the_imports() {
        let wasm = wat::parse_str(THREADED).unwrap();
        let t = threading(&wasm).unwrap().unwrap();
        assert_eq!(t.memory, ("env".into(), "memory".into(), 1, Some(4)));
        assert!(t.spawns);
        let plain = wat::parse_str("(module (memory 1) (func))").unwrap();
        assert_eq!(threading(&plain).unwrap(), None);
    }

    #[test]
    fn waits_and_notifies_become_calls_and_indices_move() {
        let wasm = wat::parse_str(THREADED).unwrap();
        let out = rewrite(&wasm).unwrap();
        wasmparser::Validator::new().validate_all(&out).unwrap();
        let (mut imports, mut ops, mut names) = (Vec::new(), Vec::new(), Vec::new());
        for payload in Parser::new(0).parse_all(&out) {
            match payload.unwrap() {
                Payload::ImportSection(s) => {
                    for i in s.into_imports() {
                        let i = i.unwrap();
                        imports.push(format!("{}::{}", i.module, i.name));
                    }
                }
                Payload::CodeSectionEntry(body) => {
                    let mut r = body.get_operators_reader().unwrap();
                    while !r.eof() {
                        ops.push(format!("{:?}", r.read().unwrap()));
                    }
                }
                Payload::CustomSection(c) => {
                    if let wasmparser::KnownCustom::Name(section) = c.as_known() {
                        for sub in section {
                            if let wasmparser::Name::Function(map) = sub.unwrap() {
                                for n in map {
                                    let n = n.unwrap();
                                    names.push((n.index, n.name.to_string()));
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        assert_eq!(
            imports,
            [
                "wasi::thread-spawn",
                "env::memory",
                "lucet-wasi::memory.atomic.wait32",
                "lucet-wasi::memory.atomic.wait64",
                "lucet-wasi::memory.atomic.notify"
            ]
        );
        assert!(
            !ops.iter().any(|o| o.starts_with("MemoryAtomic")),
            "{ops:?}"
        );
        // The offset, then the call of import 1 (after thread-spawn, import 0).
        let at = ops
            .iter()
            .position(|o| o == "I32Const { value: 8 }")
            .unwrap();
        assert_eq!(ops[at + 1], "Call { function_index: 1 }", "{ops:?}");
        // `both` called $wait and $wake, functions 1 and 2 before, 4 and 5 now.
        assert!(
            ops.contains(&"Call { function_index: 4 }".to_string()),
            "{ops:?}"
        );
        assert!(
            ops.contains(&"Call { function_index: 5 }".to_string()),
            "{ops:?}"
        );
        assert!(names.contains(&(4, "wait".to_string())), "{names:?}");
        assert!(names.contains(&(5, "wake".to_string())), "{names:?}");
    }
}

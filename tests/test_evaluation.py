"""Evaluation: FID and LPIPS networks loaded from weight files, the photo selection,
the Markdown report and the ``evaluate`` command.

The real InceptionV3, VGG16 and LPIPS weights are not available to the tests, so the
loading paths run on files of random weights written to a temporary folder.
"""

import csv
import re
import shutil

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from skimage.color import lab2rgb, rgb2lab
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
from torch import nn
from torchvision.models import inception as tv_inception
from torchvision.models import vgg as tv_vgg

from engine.cli import main
from engine.errors import ColorAppError
from engine.evaluation import BASELINE, GROUND_TRUTH, Evaluation, evaluate, load_eval_image, select_photos
from engine.evaluation_report import markdown_report
from engine.fid import (
    FID_WEIGHTS_FILE,
    TORCHVISION_WEIGHTS_FILE,
    TensorFlowInceptionA,
    TensorFlowInceptionE,
    find_and_load_inception,
    load_inception,
)
from engine.lpips import LINEAR_WEIGHTS_FILE, STAGE_CHANNELS, VGG_WEIGHTS_FILE, find_and_load_lpips, load_lpips
from tests.helpers import real_photos


def _kaiming_inception(num_classes, aux_logits):
    # Kaiming-normal convolutions keep the activations near unit scale through the
    # network; PyTorch's default initialisation shrinks the pool3 features to ~1e-7.
    torch.manual_seed(0)
    model = tv_inception.inception_v3(
        weights=None, num_classes=num_classes, aux_logits=aux_logits, init_weights=False
    )
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
    return model


@pytest.fixture(scope="module")
def weight_files(tmp_path_factory):
    """Random-weight files in the formats of pytorch-fid, torchvision and lpips."""
    folder = tmp_path_factory.mktemp("weights")
    files = {
        "fid_inception": folder / FID_WEIGHTS_FILE,
        "torchvision_inception": folder / TORCHVISION_WEIGHTS_FILE,
        "vgg": folder / VGG_WEIGHTS_FILE,
        "lpips": folder / "vgg.pth",
    }
    # The TensorFlow FID graph has 1008 classes and no auxiliary classifier.
    torch.save(_kaiming_inception(1008, aux_logits=False).state_dict(), files["fid_inception"])
    torch.save(_kaiming_inception(1000, aux_logits=True).state_dict(), files["torchvision_inception"])

    torch.manual_seed(1)
    features = tv_vgg.vgg16(weights=None).features
    torch.save({f"features.{key}": value for key, value in features.state_dict().items()}, files["vgg"])
    linear = {f"lin{index}.model.1.weight": torch.rand(1, channels, 1, 1)
              for index, channels in enumerate(STAGE_CHANNELS)}
    torch.save(linear, files["lpips"])
    return files


@pytest.fixture(autouse=True)
def no_downloads(monkeypatch):
    """Fail any test that tries to download weights."""
    def fail_download(*args, **kwargs):
        raise AssertionError(f"a download was attempted: {args}")

    monkeypatch.setattr(torch.hub, "download_url_to_file", fail_download)


@pytest.fixture
def empty_torch_home(tmp_path, monkeypatch):
    """A torch hub cache with no weight files in it."""
    home = tmp_path / "torch-home"
    monkeypatch.setenv("TORCH_HOME", str(home))
    return home


# Feature networks


def test_inception_from_fid_weights_gives_pool3_features(weight_files):
    model = load_inception(weight_files["fid_inception"])
    assert model.tensorflow_pooling
    with torch.inference_mode():
        features = model(torch.rand(2, 3, 256, 256))
    assert features.shape == (2, 2048)
    assert torch.isfinite(features).all()
    assert features.std() > 1e-3


def test_inception_from_torchvision_weights_gives_pool3_features(weight_files):
    model = load_inception(weight_files["torchvision_inception"])
    assert not model.tensorflow_pooling
    with torch.inference_mode():
        features = model(torch.rand(3, 3, 299, 299))
    assert features.shape == (3, 2048)
    assert torch.isfinite(features).all()


def test_tensorflow_average_pool_leaves_out_padding():
    torch.manual_seed(2)
    block = TensorFlowInceptionA(192, pool_features=32).eval()
    x = torch.rand(1, 192, 35, 35)
    with torch.inference_mode():
        pool_branch = block(x)[:, -32:]
        expected = block.branch_pool(F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False))
        torchvision_branch = tv_inception.InceptionA._forward(block, x)[-1]
    torch.testing.assert_close(pool_branch, expected)
    # torchvision's block counts the padding, so the borders differ.
    assert not torch.allclose(pool_branch, torchvision_branch)


def test_tensorflow_last_block_max_pools(weight_files):
    model = load_inception(weight_files["fid_inception"])
    assert isinstance(model.net.Mixed_7c, TensorFlowInceptionE)
    assert model.net.Mixed_7c.max_pool
    assert not model.net.Mixed_7b.max_pool


def test_inception_rejects_other_state_dict(tmp_path):
    path = tmp_path / "other.pth"
    torch.save({"weight": torch.zeros(3)}, path)
    with pytest.raises(ColorAppError, match="not an InceptionV3 state dict") as caught:
        load_inception(path)
    assert str(path) in str(caught.value)


def test_weights_loader_rejects_non_torch_file(tmp_path):
    path = tmp_path / "notes.pth"
    path.write_text("not a weights file")
    with pytest.raises(ColorAppError, match="weights_only=True") as caught:
        load_inception(path)
    assert str(path) in str(caught.value)


def test_lpips_distance_shape_and_zero(weight_files):
    model = load_lpips(weight_files["vgg"], weight_files["lpips"])
    torch.manual_seed(3)
    images = torch.rand(2, 3, 64, 64)
    with torch.inference_mode():
        same = model(images, images)
        different = model(images, images.flip(-1))
    assert same.shape == (2,)
    torch.testing.assert_close(same, torch.zeros(2))
    assert (different > 0).all()


def test_lpips_matches_hooks_on_full_vgg(weight_files):
    # An independent route to the five relu outputs: forward hooks on the whole
    # feature stack at relu1_2, relu2_2, relu3_3, relu4_3 and relu5_3.
    model = load_lpips(weight_files["vgg"], weight_files["lpips"])
    vgg = tv_vgg.vgg16(weights=None).features
    state = torch.load(weight_files["vgg"], weights_only=True)
    vgg.load_state_dict({key.removeprefix("features."): value for key, value in state.items()})
    vgg.eval()
    linear = torch.load(weight_files["lpips"], weights_only=True)

    def relu_outputs(images):
        outputs = []
        hooks = [vgg[index].register_forward_hook(lambda module, args, output: outputs.append(output.clone()))
                 for index in (3, 8, 15, 22, 29)]
        x = 2 * images - 1
        x = (x - torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1)) / torch.tensor(
            [0.458, 0.448, 0.450]).view(1, 3, 1, 1)
        vgg(x)
        for hook in hooks:
            hook.remove()
        return outputs

    torch.manual_seed(4)
    images_a, images_b = torch.rand(2, 3, 64, 64), torch.rand(2, 3, 64, 64)
    with torch.inference_mode():
        expected = torch.zeros(2)
        for index, (a, b) in enumerate(zip(relu_outputs(images_a), relu_outputs(images_b))):
            a = a / (a.norm(dim=1, keepdim=True) + 1e-10)
            b = b / (b.norm(dim=1, keepdim=True) + 1e-10)
            weight = linear[f"lin{index}.model.1.weight"]
            expected += F.conv2d((a - b) ** 2, weight).mean(dim=(1, 2, 3))
        distance = model(images_a, images_b)
    torch.testing.assert_close(distance, expected, rtol=1e-4, atol=1e-6)


def test_lpips_rejects_wrong_linear_layers(tmp_path, weight_files):
    path = tmp_path / "lin.pth"
    torch.save({f"lin{index}.model.1.weight": torch.rand(1, 8, 1, 1) for index in range(5)}, path)
    with pytest.raises(ColorAppError, match=r"expected \(1, 64, 1, 1\)"):
        load_lpips(weight_files["vgg"], path)


def test_weights_found_in_torch_hub_cache(empty_torch_home, weight_files):
    checkpoints = empty_torch_home / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / FID_WEIGHTS_FILE).symlink_to(weight_files["fid_inception"])
    (checkpoints / VGG_WEIGHTS_FILE).symlink_to(weight_files["vgg"])
    (checkpoints / LINEAR_WEIGHTS_FILE).symlink_to(weight_files["lpips"])

    inception, inception_path = find_and_load_inception(None)
    assert inception_path == checkpoints / FID_WEIGHTS_FILE
    assert inception.tensorflow_pooling
    _, lpips_paths = find_and_load_lpips(None, None)
    assert lpips_paths == [checkpoints / VGG_WEIGHTS_FILE, checkpoints / LINEAR_WEIGHTS_FILE]


# Photo selection


def _write_split_csv(folder, rows):
    with open(folder / "split.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("path", "class_index", "class_name", "split"))
        writer.writerows(rows)
    return folder / "split.csv"


@pytest.fixture
def split_csv(tmp_path):
    """The four test photos in two class folders, split 2 test, 1 val, 1 train."""
    splits = ("test", "val", "test", "train")
    rows = []
    for index, (photo, split) in enumerate(zip(real_photos(), splits)):
        class_name = "outdoor" if index % 2 else "indoor"
        (tmp_path / class_name).mkdir(exist_ok=True)
        shutil.copy(photo, tmp_path / class_name / photo.name)
        rows.append((f"{class_name}/{photo.name}", 0 if class_name == "indoor" else 1, class_name, split))
    return _write_split_csv(tmp_path, rows)


def test_select_photos_reads_csv_split(split_csv):
    test_photos = select_photos(split_csv)
    assert [path.name for path in test_photos] == [real_photos()[0].name, real_photos()[2].name]
    assert all(path.is_file() for path in test_photos)
    assert [path.name for path in select_photos(split_csv, "val")] == [real_photos()[1].name]


def test_select_photos_rejects_split_for_folder():
    with pytest.raises(ColorAppError, match="applies only to a split CSV file"):
        select_photos(real_photos()[0].parent, "test")


def test_select_photos_limit_spreads_evenly(tmp_path):
    # load_split does not open the files, so they need not exist here.
    rows = [(f"class/{index:02d}.jpg", 0, "class", "test") for index in range(10)]
    photos = select_photos(_write_split_csv(tmp_path, rows), limit=3)
    assert [path.name for path in photos] == ["00.jpg", "03.jpg", "06.jpg"]
    assert len(select_photos(tmp_path / "split.csv", limit=50)) == 10
    with pytest.raises(ValueError, match="invalid limit 0"):
        select_photos(tmp_path / "split.csv", limit=0)


def test_select_photos_missing_folder(tmp_path):
    with pytest.raises(ColorAppError, match="not found"):
        select_photos(tmp_path / "nowhere")


# Evaluation and its report


def _table_rows(report):
    rows = {}
    for line in report.splitlines():
        if line.startswith("| ") and not line.startswith("| model") and not line.startswith("| ---"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            rows[cells[0]] = cells[1:]
    return rows


def test_baseline_figures_match_skimage(empty_torch_home):
    photo = real_photos()[0]
    result = evaluate({}, [photo], device="cpu")
    figures = result.figures[BASELINE]

    truth = load_eval_image(photo).permute(1, 2, 0).numpy().astype(np.float64)
    truth_lab = rgb2lab(truth)
    gray_lab = truth_lab.copy()
    gray_lab[..., 1:] = 0.0

    def paper(lab):
        return np.clip(np.concatenate((lab[..., :1] / 100.0, (lab[..., 1:] / 110.0 + 1.0) / 2.0), axis=-1), 0, 1)

    ssim_settings = dict(data_range=1.0, channel_axis=-1, gaussian_weights=True, sigma=1.5,
                         use_sample_covariance=False)
    assert figures["paper_psnr"] == pytest.approx(
        peak_signal_noise_ratio(paper(truth_lab), paper(gray_lab), data_range=1.0), abs=1e-3)
    assert figures["paper_ssim"] == pytest.approx(
        structural_similarity(paper(truth_lab), paper(gray_lab), **ssim_settings), abs=1e-4)
    gray_rgb = lab2rgb(gray_lab)
    assert figures["rgb_psnr"] == pytest.approx(peak_signal_noise_ratio(truth, gray_rgb, data_range=1.0), abs=0.05)
    assert figures["rgb_ssim"] == pytest.approx(structural_similarity(truth, gray_rgb, **ssim_settings), abs=2e-3)
    assert figures["colourfulness"] == pytest.approx(0.0, abs=0.5)
    assert result.figures[GROUND_TRUTH]["colourfulness"] > 10


def test_missing_weights_named_in_table(empty_torch_home):
    result = evaluate({}, real_photos()[:2], device="cpu")
    report = markdown_report(result, "tests/data")
    checkpoints = empty_torch_home / "hub" / "checkpoints"

    baseline_row = next(line for line in report.splitlines() if line.startswith(f"| {BASELINE} |"))
    assert baseline_row.count("no weights (1)") == 2
    assert baseline_row.count("no weights (2)") == 2
    assert "fid" not in "".join(result.figures[BASELINE])
    assert "lpips" not in "".join(result.figures[BASELINE])
    assert (f"- (1) FID not computed. InceptionV3 weights not found. Put {FID_WEIGHTS_FILE}" in report)
    assert f"{TORCHVISION_WEIGHTS_FILE} (torchvision's ImageNet weights) in {checkpoints}/" in report
    assert "--inception-weights PATH" in report
    assert f"- (2) LPIPS not computed. VGG16 weights not found. Put torchvision's {VGG_WEIGHTS_FILE}" in report
    assert str(checkpoints / LINEAR_WEIGHTS_FILE) in report
    assert "--lpips-weights PATH" in report


def test_evaluate_reports_progress_per_batch(tmp_path, empty_torch_home):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    photos = real_photos()
    calls = []
    result = evaluate({}, [photos[0], broken, photos[1], photos[2]], device="cpu", batch_size=2,
                      progress=lambda done, total: calls.append((done, total)))
    # The first batch closes after the second readable photo, with the broken file counted as done.
    assert calls == [(3, 4), (4, 4)]
    assert result.photos == 3
    assert len(result.skipped) == 1
    assert result.skipped[0].startswith(f"{broken}: ")


def test_given_weights_file_missing_is_an_error(tmp_path):
    with pytest.raises(ColorAppError, match="InceptionV3 weights file not found"):
        evaluate({}, real_photos()[:1], device="cpu", inception_weights=tmp_path / "typo.pth")


def test_fid_needs_two_photos(empty_torch_home, weight_files):
    result = evaluate({}, real_photos()[:1], device="cpu", inception_weights=weight_files["fid_inception"])
    report = markdown_report(result, "one photo")
    assert "too few photos (1)" in report
    assert "FID not computed. It needs at least 2 photos" in report


def test_report_marks_torchvision_fid_as_nonstandard(tmp_path):
    weights = tmp_path / TORCHVISION_WEIGHTS_FILE
    result = Evaluation(
        figures={"mine": {"paper_fid": 12.5, "rgb_fid": 3.25}, BASELINE: {"paper_fid": 20.0, "rgb_fid": 9.0}},
        photos=3000, weight_files={"fid": [weights]}, standard_fid=False,
    )
    report = markdown_report(result, "photos")
    assert _table_rows(report)["mine"][0] == "12.500"
    assert _table_rows(report)["mine"][4] == "3.250"
    assert f"FID uses torchvision's ImageNet InceptionV3 weights {weights}" in report
    assert "not with published ones" in report
    assert "fewer than the 2048 feature dimensions" not in report


# The evaluate command


@pytest.mark.slow
def test_cli_evaluate_end_to_end(tmp_path, capsys, shipped_model, weight_files, empty_torch_home):
    output = tmp_path / "table.md"
    code = main([
        "evaluate", "--models", str(shipped_model), "--data", str(real_photos()[0].parent),
        "--device", "cpu", "--limit", "2", "--batch-size", "1", "--quiet", "-o", str(output),
        "--inception-weights", str(weight_files["fid_inception"]), "--vgg-weights", str(weight_files["vgg"]),
        "--lpips-weights", str(weight_files["lpips"]),
    ])
    printed = capsys.readouterr().out
    assert code == 0
    assert output.read_text(encoding="utf-8") == printed

    rows = _table_rows(printed)
    assert list(rows) == [shipped_model.stem, BASELINE, GROUND_TRUTH]
    for name in (shipped_model.stem, BASELINE):
        assert len(rows[name]) == 9
        values = [float(cell) for cell in rows[name]]
        assert all(np.isfinite(values)), rows[name]
        # The FID of a prediction against the photos is positive in both protocols.
        assert values[0] > 0
        assert values[4] > 0
    assert rows[GROUND_TRUTH][:8] == [""] * 8
    assert float(rows[GROUND_TRUTH][8]) > 10
    assert f"2 photos from {real_photos()[0].parent}" in printed
    assert "FID from 2 photos, fewer than the 2048 feature dimensions" in printed
    assert f"TensorFlow FID weights {weight_files['fid_inception']}" in printed
    assert "no weights" not in printed


def test_cli_evaluate_csv_split(split_csv, capsys, empty_torch_home):
    code = main(["evaluate", "--models", "pix2pix", "--data", str(split_csv), "--places-split", "val",
                 "--device", "cpu"])
    printed = capsys.readouterr().out
    assert code == 0
    assert f"1 photo from {split_csv} (split val)" in printed
    assert "no weights (1)" in printed


def test_cli_evaluate_rejects_split_for_folder(capsys):
    code = main(["evaluate", "--data", str(real_photos()[0].parent), "--split", "test", "--device", "cpu"])
    assert code == 2
    assert "applies only to a split CSV file" in capsys.readouterr().err


def test_cli_evaluate_unknown_model(capsys):
    code = main(["evaluate", "--models", "nonexistent", "--data", str(real_photos()[0].parent)])
    assert code == 2
    assert "no model named 'nonexistent'; available: " in capsys.readouterr().err


def test_cli_evaluate_unreadable_photo_is_skipped(tmp_path, capsys, empty_torch_home):
    Image.open(real_photos()[0]).save(tmp_path / "good.png")
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    code = main(["evaluate", "--models", "pix2pix", "--data", str(tmp_path), "--device", "cpu"])
    printed = capsys.readouterr().out
    assert code == 0
    assert "1 photo from" in printed
    assert "1 unreadable file skipped" in printed


def test_monochrome_photos_left_out(tmp_path, capsys, empty_torch_home):
    colour = real_photos()[0]
    with Image.open(colour) as image:
        image.convert("RGB").save(tmp_path / "colour.png")
        image.convert("L").convert("RGB").save(tmp_path / "gray.png")
        gray = np.asarray(image.convert("L"), dtype=np.float32)
    # A sepia print: every pixel has the same warm tint, whatever its grey level.
    tint = np.array([1.0, 0.85, 0.65], dtype=np.float32)
    Image.fromarray((gray[..., None] * tint).round().astype(np.uint8)).save(tmp_path / "sepia.png")
    files = sorted(tmp_path.glob("*.png"))

    result = evaluate({}, files, device="cpu")
    assert result.photos == 1
    assert [(path.name, reason.split(" ")[0]) for path, reason in result.monochrome] == [
        ("gray.png", "grayscale"), ("sepia.png", "sepia")]
    # The baseline's figures are those of the colour photo alone.
    alone = evaluate({}, [tmp_path / "colour.png"], device="cpu")
    assert result.figures[BASELINE]["rgb_psnr"] == pytest.approx(alone.figures[BASELINE]["rgb_psnr"])
    assert evaluate({}, files, device="cpu", keep_monochrome=True).photos == 3

    code = main(["evaluate", "--models", "pix2pix", "--data", str(tmp_path), "--device", "cpu"])
    printed = capsys.readouterr().out
    assert code == 0
    assert "2 photos without colour (grayscale or one tint) left out" in printed
    assert "gray.png, sepia.png" in printed
    (tmp_path / "colour.png").unlink()
    code = main(["evaluate", "--models", "pix2pix", "--data", str(tmp_path), "--device", "cpu"])
    assert code == 2
    assert "all 2 photos are grayscale or of one tint" in capsys.readouterr().err


def test_per_photo_csv_and_paired_note(tmp_path, capsys, empty_torch_home):
    photos = real_photos()[:3]
    csv_path = tmp_path / "figures.csv"
    code = main(["evaluate", "--models", "pix2pix", "--data", str(photos[0].parent), "--device", "cpu",
                 "--limit", "3", "--per-photo", str(csv_path)])
    printed = capsys.readouterr().out
    assert code == 0

    with open(csv_path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3 * 3  # three photos, each for pix2pix, the baseline and the ground truth
    model_rows = [row for row in rows if row["model"] == "pix2pix"]
    baseline_rows = [row for row in rows if row["model"] == BASELINE]
    differences = [float(m["rgb_psnr"]) - float(b["rgb_psnr"]) for m, b in zip(model_rows, baseline_rows)]
    assert [m["photo"] for m in model_rows] == [b["photo"] for b in baseline_rows]

    note = re.search(r"pix2pix: RGB PSNR ([-+]\d+\.\d+) dB against the grayscale baseline, photo by photo "
                     r"\(standard error \d+\.\d+ dB\); higher on (\d) of 3 photos", printed)
    assert note is not None
    assert float(note.group(1)) == pytest.approx(sum(differences) / 3, abs=1e-3)
    assert int(note.group(2)) == sum(value > 0 for value in differences)
